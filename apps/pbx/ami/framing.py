"""Turn a byte stream from Asterisk into a banner and whole messages.

TCP gives no message boundaries: a read may hold half a line or twenty events
(the fixtures show both bursts and, under re-chunking, any split), so bytes are
buffered and cut at the first CRLF (banner) and then at every CRLF CRLF. Bytes are
decoded only once a whole message is cut, so a UTF-8 character split across two
reads is never mangled.
"""

from __future__ import annotations

import re

from .errors import AmiConnectionError
from .message import AmiMessage, parse_message

BANNER_RE = re.compile(r"^Asterisk Call Manager/(?P<version>[\d.]+)")
_END = b"\r\n\r\n"


class AmiFrameParser:
    """Feed bytes in, get complete messages out; keeps the partial tail."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan_from = 0  # skip re-scanning bytes already known not to end a message
        self.banner: str | None = None

    @property
    def version(self) -> str | None:
        m = BANNER_RE.match(self.banner or "")
        return m.group("version") if m else None

    def feed(self, data: bytes) -> list[AmiMessage]:
        self._buf += data
        out: list[AmiMessage] = []
        if self.banner is None:
            # The banner is one CRLF-terminated line with no empty line after it.
            end = self._buf.find(b"\r\n")
            if end < 0:
                return out
            self.banner = self._buf[:end].decode("utf-8", "replace")
            del self._buf[: end + 2]
            if not BANNER_RE.match(self.banner):
                raise AmiConnectionError(f"not an Asterisk manager: banner {self.banner[:60]!r}")
            self._scan_from = 0
        while True:
            end = self._buf.find(_END, self._scan_from)
            if end < 0:
                # The terminator may straddle this read and the next one.
                self._scan_from = max(0, len(self._buf) - len(_END) + 1)
                return out
            raw = bytes(self._buf[:end])
            del self._buf[: end + len(_END)]
            self._scan_from = 0
            message = parse_message(raw)
            if message.headers:  # stray empty lines are not messages
                out.append(message)

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)
