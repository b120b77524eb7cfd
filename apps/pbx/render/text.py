"""Making user text safe inside Asterisk config values and dialplan application arguments.

Asterisk config treats ``;`` as a comment, and dialplan arguments split on ``,`` and
``|`` and expand ``${...}`` / ``$[...]``; a name like ``Bob; ${SHELL(rm -rf)}`` must
come out inert. Everything here is an allow-list, not an escape list.
"""
from __future__ import annotations

import re

_UNSAFE_LABEL = re.compile(r"[^A-Za-z0-9 .@+'_/-]+")
_UNSAFE_NAME = re.compile(r"[^\w .@+'&/-]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def label(value: str, limit: int = 60) -> str:
    """For NoOp() notes and comments: ASCII letters, digits and a little punctuation."""
    return _SPACES.sub(" ", _UNSAFE_LABEL.sub(" ", value or "")).strip()[:limit]


def callerid_name(value: str, limit: int = 40) -> str:
    """For ``callerid = "<name>" <number>`` and queue member names (no quotes, ; , < > $ { } [ ])."""
    value = _UNSAFE_NAME.sub(" ", value or "")
    return _SPACES.sub(" ", value).strip()[:limit]


def dialable(value: str) -> str:
    """Digits, *, # and a leading + (the telephony models validate this; this is defence in depth)."""
    value = value or ""
    head, rest = (value[:1], value[1:]) if value.startswith("+") else ("", value)
    return head + re.sub(r"[^0-9*#]", "", rest)


def sound(value: str) -> str:
    """A sound file reference (``custom/acme/welcome``): no extension, no parent directories."""
    value = re.sub(r"\.(wav|gsm|ulaw|alaw|g722|sln\d*|mp3)$", "", (value or "").strip(), flags=re.I)
    parts = [re.sub(r"[^A-Za-z0-9_-]", "", p) for p in value.split("/")]
    return "/".join(p for p in parts if p)


def host(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.:\[\]-]", "", value or "")


def secret(value: str) -> str:
    """A password in pjsip.conf: ``;`` would start a comment (``\\;`` is a literal one); no line breaks."""
    return (value or "").replace(";", "\\;").replace("\n", "").replace("\r", "")


def sip_user(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._~+-]", "", value or "")


_PATTERN = re.compile(r"^(?:[0-9*#+]+|_(?:[0-9*#+NXZnxz]|\[[0-9](?:-?[0-9])*\])+[.!]?)$")
_NUMBER = re.compile(r"^[0-9]{1,16}$")
_E164 = re.compile(r"^\+[1-9][0-9]{4,15}$")


def pattern(value: str) -> str:
    """An Asterisk dial pattern or literal we can render safely, else "" (the row is skipped)."""
    value = (value or "").strip()
    return value if _PATTERN.match(value) else ""


def is_number(value: str) -> bool:
    """An internal number (extension, queue, IVR): digits only."""
    return bool(_NUMBER.match(value or ""))


def is_e164(value: str) -> bool:
    return bool(_E164.match(value or ""))
