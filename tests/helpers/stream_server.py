"""The stream process (uvicorn ``thirdlane.asgi``) for tests, and a small SSE client.

    server = StreamServer(database_name).start()
    with SseClient(server.url, "/api/events/acme/stream", key=...) as stream:
        event = stream.next_event(timeout=5)     # {"id": "12", "event": "...", "data": "..."}

The server runs the test settings against the test database (committed data only) and the test
Redis database, on a free 127.0.0.1 port.
"""
from __future__ import annotations

import http.client
import json
import socket
import time

from tests.helpers.process import ListeningProcess


class StreamServer(ListeningProcess):
    name = "stream"

    def command(self) -> list[str]:
        return ["uvicorn", "thirdlane.asgi:application", "--host", "127.0.0.1", "--port", str(self.port),
                "--no-access-log", "--timeout-graceful-shutdown", "2"]

    def ready(self) -> bool:
        return "Application startup complete" in self.log() and self.accepts()


class SseClient:
    """A text/event-stream reader on a plain socket (http.client's reader gives up for good after
    one read timeout; a stream reader times out all the time). HTTP/1.1, chunked decoding."""

    def __init__(self, base_url: str, path: str, *, key: str | None = None, headers: dict | None = None):
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        all_headers = {"Host": f"{host}:{port}", "Accept": "text/event-stream", **(headers or {})}
        if key:
            all_headers["X-API-Key"] = key
        request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
        self.sock.sendall(request.encode())
        self._raw = b""  # bytes from the socket, not yet decoded
        self._body = b""  # decoded body bytes, not yet consumed
        self._eof = False
        head = self._read_until(b"\r\n\r\n", raw=True)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = http.client.HTTPMessage()
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers[name.strip()] = value.strip()
        self.chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        self._left = int(self.headers.get("Content-Length", "-1"))
        self.retry: int | None = None
        self.comments: list[str] = []

    # --- bytes -------------------------------------------------------------------------------
    def _recv(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            self._eof = True
            return False
        self._raw += data
        return True

    def _read_until(self, marker: bytes, raw: bool = False) -> bytes:
        while marker not in self._raw:
            if not self._recv():
                raise ConnectionError("closed before the response head")
        head, _, self._raw = self._raw.partition(marker)
        return head

    def _decode(self) -> None:
        """Move what is complete from ``_raw`` into ``_body``."""
        if not self.chunked:
            self._body, self._raw = self._body + self._raw, b""
            return
        while True:
            size_line, sep, rest = self._raw.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self._eof = True
                self._raw = b""
                return
            if len(rest) < size + 2:
                return
            self._body += rest[:size]
            self._raw = rest[size + 2:]

    def _line(self, deadline: float) -> str | None:
        while b"\n" not in self._body:
            self._decode()
            if b"\n" in self._body:
                break
            if self._eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                self._recv()
            except (socket.timeout, TimeoutError):
                raise TimeoutError from None
        line, _, self._body = self._body.partition(b"\n")
        return line.decode().rstrip("\r")

    # --- API --------------------------------------------------------------------------------
    def json(self) -> dict:
        deadline = time.monotonic() + 10
        while (len(self._body) < self._left if self._left >= 0 else not self._eof) and time.monotonic() < deadline:
            self._decode()
            if self._left >= 0 and len(self._body) >= self._left:
                break
            if not self._recv():
                break
        self._decode()
        return json.loads(self._body)

    def next_event(self, timeout: float = 5.0) -> dict | None:
        """The next dispatched event ({"id", "event", "data"}), ``{"eof": True}`` when the server
        ended the stream, or None after ``timeout`` seconds (heartbeats do not count)."""
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        try:
            while True:
                line = self._line(deadline)
                if line is None:
                    return {"eof": True}
                if line == "":
                    if "data" in fields:
                        return fields
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "retry":
                    self.retry = int(value)
                elif name in ("id", "event", "data"):
                    fields[name] = value
        except TimeoutError:
            # A partial event stays buffered in _body/_raw only as bytes; fields read so far are
            # put back so the next call sees the whole event.
            if fields:
                self._body = ("".join(f"{k}: {v}\n" for k, v in fields.items())).encode() + self._body
            return None

    def events(self, n: int, timeout: float = 10.0) -> list[dict]:
        out, deadline = [], time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            event = self.next_event(timeout=max(deadline - time.monotonic(), 0.01))
            if event is None or event.get("eof"):
                break
            out.append(event)
        return out

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "SseClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
