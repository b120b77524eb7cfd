"""Raw AMI events -> plain dicts with Python types, for call records and stats.

Deliberately small and generic: keys become snake_case, numbers become ints,
0/1 flags become bools, CDR times become datetimes, `<unknown>` becomes None,
and repeated keys (`Variable:`, `ChanVariable:`) are kept, never overwritten.
Per-event meaning (which Hangup ends which call) belongs to the call-record code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .message import AmiMessage, parse_message

INT_KEYS = frozenset({
    "channel_state", "priority", "cause", "duration", "billable_seconds", "reason", "penalty",
    "calls_taken", "last_call", "last_pause", "login_time", "status", "list_items", "uptime",
    "last_reload", "hold_time", "holdtime", "talk_time", "talktime", "position", "count",
    "wrapuptime", "ring_time", "result_code", "calls", "completed", "abandoned", "max",
    "waiting", "new", "old", "dial_status_code",
})
BOOL_KEYS = frozenset({"paused", "in_call", "ringinuse"})
TIME_KEYS = frozenset({"start_time", "answer_time", "end_time"})
FLOAT_KEYS = frozenset({"timestamp"})
KEY_VALUE_KEYS = {"variable": "variables", "chan_variable": "chan_variables"}
ALIASES = {"unique_id": "uniqueid"}  # Cdr says UniqueID, channel events say Uniqueid
UNKNOWN = "<unknown>"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_key(key: str) -> str:
    """`CallerIDNum` -> `caller_id_num`, `Cause-txt` -> `cause_txt`, `AMAFlags` -> `ama_flags`."""
    snake = _CAMEL.sub("_", key.replace("-", "_")).lower()
    return ALIASES.get(snake, snake)


def _convert(key: str, value: str) -> Any:
    if value == UNKNOWN:
        return None
    if key in INT_KEYS:
        try:
            return int(value)
        except ValueError:
            return value  # e.g. FullyBooted's `Status: Fully Booted`
    if key in BOOL_KEYS:
        return value.strip().lower() in ("1", "true", "yes", "on")
    if key in FLOAT_KEYS:
        try:
            return float(value)
        except ValueError:
            return value
    if key in TIME_KEYS:
        # Server-local wall time without a zone; the call-record code applies the
        # server's time zone. Unanswered calls have an empty AnswerTime.
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S") if value else None
        except ValueError:
            return value
    return value


def parse_event(event: AmiMessage | Mapping[str, str] | str | bytes) -> dict[str, Any]:
    """Return {'event': name, 'privilege': [...], <snake_case key>: typed value, ...}."""
    if isinstance(event, (str, bytes)):
        event = parse_message(event)
    pairs = event.headers if isinstance(event, AmiMessage) else list(event.items())
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        key = snake_key(raw_key)
        if key == "privilege":
            out[key] = [p for p in value.split(",") if p]
        elif key in KEY_VALUE_KEYS:
            name, _, val = value.partition("=")
            out.setdefault(KEY_VALUE_KEYS[key], {})[name] = val
        elif key in out:
            prev = out[key]
            out[key] = [*prev, _convert(key, value)] if isinstance(prev, list) else [prev, _convert(key, value)]
        else:
            out[key] = _convert(key, value)
    return out


_CALLERID = re.compile(r'^\s*(?:"(?P<qname>(?:[^"\\]|\\.)*)"|(?P<name>[^<]*?))\s*<(?P<num>[^>]*)>\s*$')


def split_callerid(callerid: str | None) -> tuple[str, str]:
    """`"Acme 1001" <1001>` -> ("Acme 1001", "1001"); a bare number -> ("", number)."""
    if not callerid:
        return "", ""
    m = _CALLERID.match(callerid)
    if not m:
        return "", callerid.strip()
    name = m.group("qname") if m.group("qname") is not None else (m.group("name") or "")
    return name.replace('\\"', '"').strip(), m.group("num").strip()
