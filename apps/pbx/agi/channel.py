"""The handler's view of one FastAGI session: send commands, read replies.

`HANGUP` is unsolicited: Asterisk writes it whenever the channel hangs up, so it
can sit in front of the reply to our next command. It is consumed wherever it
turns up and only flips `hungup`; commands keep working until Asterisk answers
511 (in the recording, GET VARIABLE and VERBOSE still got `200` after HANGUP).
"""

from __future__ import annotations

import logging
import socket
import time

from .protocol import (
    AgiCommandError,
    AgiEnv,
    AgiError,
    AgiHangup,
    AgiReply,
    AgiTimeout,
    check_token,
    parse_env_line,
    parse_reply,
    quote,
)

log = logging.getLogger("apps.pbx.agi")


class LineReader:
    """LF-terminated lines from a socket, with a timeout per line that loses no bytes."""

    def __init__(self, sock: socket.socket, max_line: int = 65536):
        self.sock = sock
        self.max_line = max_line
        self._buf = bytearray()
        self.eof = False

    def read_line(self, timeout: float | None) -> str | None:
        """The next line without its LF (and without a CR); None at EOF."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 1]
                return line.rstrip(b"\r").decode("utf-8", "replace")
            if self.eof:
                return None
            if len(self._buf) > self.max_line:
                raise AgiError("line too long")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise AgiTimeout(f"no line within {timeout}s")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise AgiTimeout(f"no line within {timeout}s") from None
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self._buf += data


def read_env(reader: LineReader, timeout: float) -> AgiEnv:
    """Read `agi_*: value` lines up to the empty line that ends them."""
    deadline = time.monotonic() + timeout
    raw: dict[str, str] = {}
    while True:
        line = reader.read_line(max(0.0, deadline - time.monotonic()))
        if line is None:
            raise AgiHangup("connection closed while reading the AGI environment")
        if line == "":
            return AgiEnv(raw)
        key, value = parse_env_line(line)
        raw[key] = value


class AgiChannel:
    def __init__(self, sock: socket.socket, env: AgiEnv, reader: LineReader, *, command_timeout: float = 30.0):
        self.sock = sock
        self.env = env
        self.reader = reader
        self.command_timeout = command_timeout
        self.hungup = False  # Asterisk sent HANGUP or closed the socket

    # -- the commands handlers use ----------------------------------------------
    def get_variable(self, name: str) -> str | None:
        """The variable's value, or None if it is not set (`200 result=0`)."""
        reply = self.command("GET VARIABLE", check_token(name))
        return (reply.data or "") if reply.result == "1" else None

    def set_variable(self, name: str, value: str) -> None:
        self._expect_success(self.command("SET VARIABLE", check_token(name), quote(str(value))))

    def verbose(self, message: str, level: int = 1) -> None:
        self._expect_success(self.command("VERBOSE", quote(message), str(int(level))))

    def _expect_success(self, reply: AgiReply) -> None:
        if reply.result != "1":
            raise AgiCommandError(reply.code, f"result={reply.result}")

    # -- the protocol ----------------------------------------------------------------
    def command(self, *parts: str, timeout: float | None = None) -> AgiReply:
        """Send one command line (arguments already quoted) and read its reply."""
        line = " ".join(parts)
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command cannot contain a line break")
        try:
            self.sock.sendall(line.encode("utf-8") + b"\n")
        except OSError as exc:
            self.hungup = True
            raise AgiHangup(f"socket closed: {exc}") from exc
        return self._read_reply(self.command_timeout if timeout is None else timeout)

    def _read_reply(self, timeout: float) -> AgiReply:
        deadline = time.monotonic() + timeout
        while True:
            line = self.reader.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                self.hungup = True
                raise AgiHangup("Asterisk closed the AGI connection")
            if line == "HANGUP":
                self.hungup = True
                continue
            if line.startswith("520-"):  # multi-line usage text ends with "520 ..."
                usage = [line[4:]]
                while (more := self.reader.read_line(max(0.0, deadline - time.monotonic()))) is not None:
                    if more.startswith("520 "):
                        break
                    usage.append(more)
                raise AgiCommandError(520, "\n".join(usage))
            try:
                return parse_reply(line)
            except AgiHangup:
                self.hungup = True
                raise

    def wait_for_hangup(self, timeout: float | None = None) -> bool:
        """Block until Asterisk reports the hangup (or closes); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.hungup:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = self.reader.read_line(remaining)
            except AgiTimeout:
                return False
            if line is None or line == "HANGUP":
                self.hungup = True
            else:
                log.warning("unexpected AGI line while idle: %r", line[:80])
        return True
