"""How many SMS segments a text takes (3GPP TS 23.038 / 23.040).

GSM-7 when every character is in the default alphabet or its extension table (which costs two
septets: an escape and the character), else UCS-2. One segment holds 160 septets (GSM-7) or 70
UTF-16 code units (UCS-2); a concatenated message loses 6 bytes per segment to its header,
leaving 153 septets or 67 code units. A character outside the Basic Multilingual Plane (most
emoji) is two UTF-16 code units, and a multipart message never splits an escape pair or a
surrogate pair, so parts are filled greedily by whole characters.
"""
from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


@dataclass(frozen=True)
class Segmentation:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    @property
    def per_segment(self) -> int:
        single, multi = LIMITS[self.encoding]
        return single if self.segments <= 1 else multi


def encoding_of(text: str) -> str:
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text) else "ucs2"


def _cost(char: str, encoding: str) -> int:
    if encoding == "gsm7":
        return 2 if char in GSM7_EXTENDED else 1
    return 2 if ord(char) > 0xFFFF else 1


def segment(text: str) -> Segmentation:
    encoding = encoding_of(text)
    single, multi = LIMITS[encoding]
    costs = [_cost(c, encoding) for c in text]
    units = sum(costs)
    if units <= single:
        return Segmentation(encoding, units, 1)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return Segmentation(encoding, units, segments)
