"""MAC addresses: one spelling everywhere (12 lower-case hex digits, as phones name their files)."""
from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"^[0-9a-f]{12}$")


def normalize(value) -> str | None:
    """``00:15:65:AB:CD:EF``, ``0015.65ab.cdef``, ``00-15-65-ab-cd-ef`` -> ``001565abcdef``;
    None when it is not a MAC address a phone can have (not 48 bits, all zeros, broadcast or a
    multicast address)."""
    if not isinstance(value, str):
        return None
    mac = _SEPARATORS.sub("", value.strip().lower())
    if not _HEX12.match(mac) or mac in ("000000000000", "ffffffffffff"):
        return None
    if int(mac[:2], 16) & 1:  # the group bit: a multicast address is never a device's
        return None
    return mac


def colons(mac: str, *, upper: bool = False) -> str:
    text = ":".join(mac[i:i + 2] for i in range(0, 12, 2))
    return text.upper() if upper else text
