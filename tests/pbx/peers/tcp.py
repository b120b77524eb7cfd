"""Small threaded TCP plumbing shared by the peers (no asyncio: the code under
test is threaded, and plain sockets keep the peers obviously correct)."""

from __future__ import annotations

import socket
import threading
import time


class StreamReader:
    """Buffered reads of delimiter-terminated frames; a timeout loses no bytes."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def read_until(self, delim: bytes, timeout: float | None) -> bytes | None:
        """Return the frame including `delim`, or None on timeout / EOF."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            end = self.buf.find(delim)
            if end >= 0:
                frame = bytes(self.buf[: end + len(delim)])
                del self.buf[: end + len(delim)]
                return frame
            if self.eof:
                return None
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data

    def wait_eof(self, timeout: float) -> bool:
        """True if the other side closed within `timeout` (bytes read meanwhile are kept)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data
        return True


class PeerServer:
    """Listens on 127.0.0.1, port 0; each connection runs `handle()` on a thread.

    Exceptions in a handler are kept in `errors` (tests assert it is empty) instead
    of vanishing on a background thread.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # lets the accept loop notice close()
        self.host, self.port = self._listener.getsockname()[:2]
        self.errors: list[str] = []
        self.connections = 0
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self):
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # keep re-chunked writes apart
            index = self.connections
            self.connections += 1
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, index), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, index: int) -> None:
        try:
            self.handle(conn, index)
        except Exception as exc:  # noqa: BLE001 - reported through self.errors
            if not self._closed.is_set():
                self.errors.append(f"connection {index}: {exc!r}")
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def handle(self, conn: socket.socket, index: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every connection handler has finished."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._closed.set()
        self._accept_thread.join(1.0)
        self._listener.close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(2.0)
