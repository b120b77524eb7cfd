"""FastAGI wire format (Asterisk 22): the `agi_*` environment, command lines,
and `200 result=...` replies. Pure functions, no sockets.

Observed on the wire (shared/fixtures/asterisk-22/agi-crm-lookup.jsonl):
- lines end with a bare LF; the environment ends with an empty line;
- `agi_network_script: crm-lookup` is the path of `agi://host:port/crm-lookup`;
- `200 result=1 (+15559876543)` (GET VARIABLE), `200 result=0` (unset variable),
  `200 result=1` (VERBOSE, SET VARIABLE);
- `HANGUP` arrives on its own line, unsolicited, when the channel hangs up.
Asterisk also sends `510 Invalid or unknown command`, `511 Command Not Permitted
on a dead channel or intercepted channel` and a multi-line `520-...` usage block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs


class AgiError(Exception):
    """Base class for AGI failures."""


class AgiHangup(AgiError):
    """The channel hung up (511 reply) or Asterisk closed the AGI socket."""


class AgiTimeout(AgiError):
    """Asterisk did not send what we waited for in time; the session is unusable."""


class AgiCommandError(AgiError):
    """Asterisk rejected a command: 510 (unknown), 520 (usage), or an odd reply."""

    def __init__(self, code: int, text: str):
        self.code = code
        self.text = text
        super().__init__(f"{code} {text}")


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str  # as sent: "1", "0", "-1", ...
    data: str | None = None  # the text in parentheses, if any
    extra: Mapping[str, str] = field(default_factory=dict)  # e.g. endpos=1234

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


# Greedy data group: a value may itself contain ")" (backtracking stops it at the
# last ")" that is followed only by key=value pairs).
_REPLY_200 = re.compile(r"^200 result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?P<extra>(?: [\w-]+=\S*)*)$")


def parse_reply(line: str) -> AgiReply:
    """Parse one `200 result=...` line; other codes raise AgiHangup/AgiCommandError."""
    m = _REPLY_200.match(line)
    if m:
        extra = dict(kv.split("=", 1) for kv in m.group("extra").split())
        return AgiReply(200, m.group("result"), m.group("data"), extra)
    code_text, _, text = line.partition(" ")
    code = int(code_text) if code_text.isdigit() else 0
    if code == 511:
        raise AgiHangup(text or "dead channel")
    raise AgiCommandError(code, text if code else line)


@dataclass(frozen=True)
class AgiEnv:
    """The `agi_*` variables Asterisk sends first. `env["callerid"]` and
    `env["agi_callerid"]` both work."""

    raw: Mapping[str, str]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.raw.get(key if key.startswith("agi_") else f"agi_{key}", default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    @property
    def script(self) -> str:
        """The dispatch path: `crm-lookup` for agi://host:4573/crm-lookup?x=1."""
        return normalize_path(self.get("network_script") or "")

    @property
    def query(self) -> dict[str, str]:
        _, _, qs = (self.get("network_script") or "").partition("?")
        return {k: v[-1] for k, v in parse_qs(qs, keep_blank_values=True).items()}

    @property
    def args(self) -> list[str]:
        """`agi_arg_1..N` in order (the AGI() application's arguments)."""
        out, n = [], 1
        while (value := self.raw.get(f"agi_arg_{n}")) is not None:
            out.append(value)
            n += 1
        return out

    channel = property(lambda self: self.get("channel", ""))
    uniqueid = property(lambda self: self.get("uniqueid", ""))
    callerid = property(lambda self: self.get("callerid", ""))
    calleridname = property(lambda self: self.get("calleridname", ""))
    context = property(lambda self: self.get("context", ""))
    extension = property(lambda self: self.get("extension", ""))


def normalize_path(path: str) -> str:
    return path.split("?", 1)[0].strip().strip("/")


def parse_env_line(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value[1:] if value.startswith(" ") else value


def quote(text: str) -> str:
    """Quote one argument the way Asterisk's AGI parser reads it back.

    Newlines would end the command and let caller data (a CRM name) inject a
    second AGI command, so they are replaced by spaces; `\\` and `"` are escaped.
    """
    text = text.replace("\r", " ").replace("\n", " ")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_token(token: str) -> str:
    """A bare (unquoted) argument such as a variable name: no spaces or newlines."""
    if not token or any(c.isspace() for c in token):
        raise ValueError(f"invalid AGI token {token!r}")
    return token
