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
        # Sessions in progress, so a shutdown can let them finish (a call waits on each one).
        self._sessions = 0
        self._idle = threading.Condition()

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

    def shutdown(self, grace: float = 10.0) -> bool:
        """Stop accepting, close the listening socket, then wait up to ``grace`` seconds for the
        sessions in progress to end. True when none was left running.

        Only a server started with ``start()`` can be stopped from another thread (or a signal
        handler): ``socketserver.shutdown()`` waits for the serving loop, which would deadlock
        when called on the loop's own thread, and closing the socket under a running loop makes
        it spin on a dead file descriptor. ``manage.py agi_serve`` therefore serves on a thread.
        """
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        return self.wait_idle(grace)

    @property
    def active_sessions(self) -> int:
        return self._sessions

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._sessions == 0, timeout)

    def __enter__(self) -> FastAgiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def handle_connection(self, sock: socket.socket) -> None:
        with self._idle:
            self._sessions += 1
        try:
            self._handle(sock)
        finally:
            with self._idle:
                self._sessions -= 1
                self._idle.notify_all()

    def _handle(self, sock: socket.socket) -> None:
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
