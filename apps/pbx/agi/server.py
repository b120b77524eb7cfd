"""The FastAGI TCP server: one thread per call, dispatch by script path.

Threads, not asyncio: handlers do blocking Django ORM look-ups, and an AGI
session lives only as long as its dialplan step (milliseconds to seconds), so a
thread per connection is the simplest model that cannot stall other calls.
Whatever a handler does, the socket is closed when it returns, which is what
tells Asterisk to continue the dialplan.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading

from .channel import AgiChannel, LineReader, read_env
from .protocol import AgiError, AgiHangup
from .registry import AgiRegistry
from .registry import registry as default_registry

log = logging.getLogger("apps.pbx.agi")


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a stuck call must not block process exit
    allow_reuse_address = True
    agi: FastAgiServer


class _RequestHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.agi.handle_connection(self.request)  # type: ignore[attr-defined]


class FastAgiServer:
    """`FastAgiServer("0.0.0.0", 4573).serve_forever()`; port 0 picks a free port.

    env_timeout: seconds Asterisk gets to send the agi_* block.
    command_timeout: seconds to wait for each command's reply.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        registry: AgiRegistry | None = None,
        env_timeout: float = 5.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.registry = registry if registry is not None else default_registry
        self.env_timeout = env_timeout
        self.command_timeout = command_timeout
        self._server = _ThreadingServer((host, port), _RequestHandler)
        self._server.agi = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        log.info("FastAGI listening on %s:%s (%s)", *self.address, ", ".join(self.registry.paths()) or "no handlers")
        self._server.serve_forever(poll_interval)

    def start(self) -> FastAgiServer:
        """Serve on a background thread (tests, or embedding in another process)."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True, name="fastagi")
        self._thread.start()
        return self

    def shutdown(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> FastAgiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def handle_connection(self, sock: socket.socket) -> None:
        reader = LineReader(sock)
        try:
            env = read_env(reader, self.env_timeout)
        except AgiError as exc:
            log.warning("FastAGI: no usable environment: %s", exc)
            return
        handler = self.registry.resolve(env.script)
        if handler is None:
            log.warning("FastAGI: no handler for %r (channel %s)", env.script, env.channel)
            return
        channel = AgiChannel(sock, env, reader, command_timeout=self.command_timeout)
        try:
            handler(env, channel)
        except AgiHangup as exc:  # the caller went away: normal, not an error
            log.debug("FastAGI %s: %s hung up: %s", env.script, env.channel, exc)
        except Exception:
            log.exception("FastAGI handler %r failed on %s", env.script, env.channel)
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
