"""AMI messages: parsing `Key: Value` blocks, encoding actions, masking secrets.

Wire facts this relies on (see shared/fixtures/asterisk-22/README.md):
- every line ends CRLF, a message ends with an empty line;
- `Key: Value` with exactly one space after the colon; empty values are `Key: `;
- keys repeat (`Output:` once per CLI line, `Variable:` once per variable), so a
  message is an ordered list of pairs, not a dict;
- values keep their leading and trailing spaces (CLI output is column aligned);
- Asterisk sometimes puts a bare LF inside a value (`PJSIPShowEndpoint` for an
  unknown name ends its Message with `\\n`), so lines are split on LF too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# Keys whose values must never reach a log line: Login's Secret, the MD5 `Key`.
SECRET_KEYS = frozenset({"secret", "key", "password"})
MASK = "********"

_LINE_SPLIT = re.compile(r"\r?\n")


class AmiMessage:
    """One AMI message (response, event or action): ordered `(key, value)` pairs.

    Look-ups are case-insensitive because Asterisk is not consistent about case
    (`Uniqueid` vs `UniqueID`, `EventList: start` vs `EventList: Complete`).
    """

    __slots__ = ("headers",)

    def __init__(self, headers: Iterable[tuple[str, str]] = ()):
        self.headers: list[tuple[str, str]] = list(headers)

    # -- look-ups -----------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        wanted = key.lower()
        for k, v in self.headers:
            if k.lower() == wanted:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AmiMessage) and self.headers == other.headers

    def to_dict(self) -> dict[str, str | list[str]]:
        """Keys as sent; a repeated key becomes a list of its values in order."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.headers:
            if k in out:
                prev = out[k]
                out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
            else:
                out[k] = v
        return out

    # -- what kind of message -----------------------------------------------
    @property
    def kind(self) -> str:
        """'response', 'event', 'action' or 'unknown' (from the first key)."""
        if not self.headers:
            return "unknown"
        first = self.headers[0][0].lower()
        return first if first in ("response", "event", "action") else "unknown"

    @property
    def name(self) -> str | None:
        """Event name (`Event:`), or the action name for an action."""
        return self.get("Event") if self.kind == "event" else self.get("Action")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def __repr__(self) -> str:
        head = self.headers[0] if self.headers else ("?", "")
        return f"<AmiMessage {head[0]}: {head[1]} ({len(self.headers)} headers)>"

    def __str__(self) -> str:
        return redact(encode_headers(self.headers).decode("utf-8", "replace"))


class AmiResponse(AmiMessage):
    """A `Response:` plus what belongs to it.

    `events` holds the list items of an EventList action (without the closing
    `...Complete` event, which is `complete`), or the follow-up event an action
    waited for (Originate's OriginateResponse).
    """

    __slots__ = ("events", "complete")

    def __init__(self, headers: Iterable[tuple[str, str]] = ()):
        super().__init__(headers)
        self.events: list[AmiMessage] = []
        self.complete: AmiMessage | None = None

    @property
    def status(self) -> str:
        return self.get("Response", "")

    @property
    def ok(self) -> bool:
        return self.status.lower() not in ("error", "failure")

    @property
    def message(self) -> str:
        return self.get("Message", "")

    @property
    def output(self) -> str:
        """`Command` output: one `Output:` header per CLI line, joined with LF."""
        return "\n".join(self.get_all("Output"))

    @property
    def is_event_list_start(self) -> bool:
        return (self.get("EventList") or "").lower() == "start"


def parse_message(data: str | bytes) -> AmiMessage:
    """Parse one message (without needing the terminating empty line).

    A line without a colon continues the previous value (joined with LF): that
    keeps text after a stray bare LF instead of silently dropping it.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    headers: list[tuple[str, str]] = []
    for line in _LINE_SPLIT.split(data):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            if headers:
                k, v = headers[-1]
                headers[-1] = (k, f"{v}\n{line}")
            continue
        # Exactly one space follows the colon; anything beyond it is data.
        headers.append((key.strip(), value[1:] if value.startswith(" ") else value))
    if headers and headers[0][0].lower() == "response":
        return AmiResponse(headers)
    return AmiMessage(headers)


def _header_lines(key: str, value: Any) -> Iterator[tuple[str, str]]:
    """Expand one keyword into wire pairs: None is omitted, bools are true/false,
    lists repeat the key, a mapping becomes `k=v` lines (Originate's Variable)."""
    if value is None:
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield key, f"{k}={_scalar(v)}"
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield key, _scalar(v)
    else:
        yield key, _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_headers(pairs: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs).encode("utf-8") + b"\r\n"


def encode_action(name: str, headers: Mapping[str, Any] | None = None) -> bytes:
    """`Action: <name>` then the headers in the order given, then the empty line.

    CR or LF inside a key or value would let a caller's data (a CRM name, a
    dialled number) start a new header or a whole new action, so they are refused.
    """
    pairs = [("Action", name)]
    for key, value in (headers or {}).items():
        pairs.extend(_header_lines(key, value))
    for k, v in pairs:
        if any(c in k or c in v for c in "\r\n") or ":" in k:
            raise ValueError(f"illegal character in AMI header {k!r}")
    return encode_headers(pairs)


def redact(text: str) -> str:
    """Mask the value of secret-bearing lines (`Secret:`, `Key:`) in wire text."""
    out = []
    for line in text.split("\n"):
        key, sep, rest = line.partition(":")
        if sep and key.strip().lower() in SECRET_KEYS:
            line = f"{key}: {MASK}" + ("\r" if rest.endswith("\r") else "")
        out.append(line)
    return "\n".join(out)
