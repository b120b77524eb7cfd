"""One AMI session: a socket, a reader thread, ActionID correlation, keepalive.

Threads and why:
- the reader thread owns `recv()`. It blocks with *no* socket timeout: idle time
  is normal for AMI (asterisk-ami 0.1.7 used its response timeout as the socket
  timeout, so its reader died after 3 idle seconds). Liveness is the keepalive's job.
- the optional keepalive thread sends `Ping` when nothing was received for
  `keepalive` seconds; no answer within `timeout` means the server is gone, so the
  connection is failed and every waiter gets AmiConnectionError (the listener
  then reconnects).
Callers on any thread may send actions at once: sends are serialised, answers are
routed by ActionID (Asterisk answers one session's actions in order, which is
what makes the FIFO fallback for actions sent without an ActionID correct).
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .actions import AmiActions
from .errors import AmiActionError, AmiAuthError, AmiConnectionError, AmiError, AmiTimeoutError
from .framing import AmiFrameParser
from .future import AmiFuture
from .message import AmiMessage, AmiResponse, encode_action, redact

log = logging.getLogger("apps.pbx.ami")
wire_log = logging.getLogger("apps.pbx.ami.wire")  # every frame, secrets masked

AUTO = object()  # "generate an ActionID" (pass ActionID=None to send none at all)
_CLOSED = object()  # end-of-stream marker in the event queue
_connection_ids = itertools.count(1)


class AmiConnection(AmiActions):
    """A logged-in AMI session, usable as a context manager.

        with AmiConnection(host, 5038, "portal", secret, timeout=10) as ami:
            ami.reload("res_pjsip.so")

    `timeout`: seconds to wait for connect, banner and each answer.
    `keepalive`: idle seconds before a `Ping` (None: no keepalive thread).
    `events`: True (server default), False (`Events: off`) or an event-class mask
    such as "call,cdr,agent" sent as the Login `Events` header.
    `on_event`: called on the reader thread for each unsolicited event; keep it
    fast, and never send an action from it and wait (the reader is what delivers
    the answer). Events are also queued for `events()` / `next_event()`.
    One object is one TCP session: after close(), make a new one (AmiListener does).
    """

    def __init__(
        self,
        host: str,
        port: int = 5038,
        username: str | None = None,
        secret: str | None = None,
        *,
        timeout: float = 10.0,
        keepalive: float | None = None,
        events: bool | str = True,
        on_event: Callable[[AmiMessage], Any] | None = None,
        max_queued_events: int = 100_000,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret  # never logged, never in repr or exception text
        self.timeout = timeout
        self.keepalive = keepalive
        self.event_mask = events
        self.on_event = on_event
        self.max_queued_events = max_queued_events

        self.banner: str | None = None
        self.version: str | None = None
        self.logged_in = False
        self.last_rx = 0.0  # monotonic time of the last byte received
        self.dropped_events = 0

        self._sock: socket.socket | None = None
        self._parser = AmiFrameParser()
        self._reader: threading.Thread | None = None
        self._keepalive_thread: threading.Thread | None = None
        self._send_lock = threading.Lock()  # wire order == registration order
        self._lock = threading.Lock()  # pending maps and state
        self._pending: dict[str, AmiFuture] = {}
        self._anonymous: collections.deque[AmiFuture] = collections.deque()
        self._events: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._closed = False
        self._closing = False  # an EOF from now on is expected, not an error
        self._error: AmiError | None = None
        self._ids = itertools.count(1)
        self._id_prefix = f"tl{next(_connection_ids)}"

    def __repr__(self) -> str:
        return f"<AmiConnection {self.host}:{self.port} user={self.username!r}>"

    # -- lifecycle ----------------------------------------------------------------
    def __enter__(self) -> AmiConnection:
        self.connect()
        if self.username is not None:
            self.login()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.logoff()

    @property
    def connected(self) -> bool:
        return self._sock is not None and not self._closed

    def connect(self) -> AmiConnection:
        """Open the socket and read the banner; start the reader thread."""
        if self._sock is not None:
            raise AmiConnectionError(f"{self!r} was already connected (one object per TCP session)")
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise AmiConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        try:
            first = self._read_banner(sock)
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(None)  # see module docstring: idle is not an error
        self._sock = sock
        self.banner, self.version = self._parser.banner, self._parser.version
        log.debug("connected to %s:%s (%s)", self.host, self.port, self.banner)
        self._reader = threading.Thread(
            target=self._read_loop, args=(first,), daemon=True, name=f"ami-reader-{self.host}:{self.port}"
        )
        self._reader.start()
        return self

    def _read_banner(self, sock: socket.socket) -> list[AmiMessage]:
        deadline = time.monotonic() + self.timeout
        try:
            while self._parser.banner is None:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                data = sock.recv(65536)
                if not data:
                    raise AmiConnectionError(f"{self.host}:{self.port} closed before the banner")
                self.last_rx = time.monotonic()
                first = self._parser.feed(data)
        except socket.timeout:
            raise AmiTimeoutError(f"no banner from {self.host}:{self.port} within {self.timeout}s") from None
        except OSError as exc:
            raise AmiConnectionError(f"reading banner from {self.host}:{self.port}: {exc}") from exc
        return first

    def login(
        self, username: str | None = None, secret: str | None = None, *, events: bool | str | None = None
    ) -> AmiResponse:
        """Log in; raises AmiAuthError (and closes, as Asterisk does) when refused."""
        username = username if username is not None else self.username
        secret = secret if secret is not None else self._secret
        events = self.event_mask if events is None else events
        if self._sock is None:
            self.connect()
        mask = None if events is True else ("off" if events is False else events)
        # Asterisk answers a bad login only after ~1 s, so the wait is the full timeout.
        try:
            response = self.send_action("Login", Username=username, Secret=secret, Events=mask).result(self.timeout)
        except AmiError:
            self.close()
            raise
        if not response.ok:
            self.close()
            raise AmiAuthError(
                f"login as {username!r} on {self.host}:{self.port} refused: {response.message or response.status}"
            )
        self.logged_in = True
        if self.keepalive:
            self._keepalive_thread = threading.Thread(
                target=self._keepalive_loop, daemon=True, name=f"ami-keepalive-{self.host}:{self.port}"
            )
            self._keepalive_thread.start()
        return response

    def logoff(self) -> None:
        """Say goodbye if still connected, then close. Never raises."""
        if self.connected and self.logged_in:
            self._closing = True
            try:
                self.action("Logoff", timeout=min(self.timeout, 2.0), check=False)
            except AmiError:
                pass
        self.close()

    def close(self) -> None:
        """Drop the socket without a Logoff; wakes every waiter. Idempotent."""
        self._closing = True
        self._stop.set()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's blocking recv()
            except OSError:
                pass
        me = threading.current_thread()
        for thread in (self._reader, self._keepalive_thread):
            if thread is not None and thread is not me:
                thread.join(self.timeout)
        if sock is not None:
            sock.close()
        if self._reader is None:
            self._finish(None)

    def _fail(self, error: AmiError) -> None:
        """Declare the session dead (keepalive): waiters get `error`."""
        with self._lock:
            if self._error is None and not self._closed:
                self._error = error
        log.warning("%s", error)
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- reader thread ---------------------------------------------------------------
    def _read_loop(self, first: list[AmiMessage]) -> None:
        failure: BaseException | None = None
        try:
            for message in first:
                self._dispatch(message)
            assert self._sock is not None
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                self.last_rx = time.monotonic()
                for message in self._parser.feed(data):
                    self._dispatch(message)
        except Exception as exc:  # OSError, or a framing error: the session is unusable
            failure = exc
        finally:
            self._finish(failure)

    def _finish(self, failure: BaseException | None) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._error is None and not self._closing:
                detail = f": {failure}" if failure else " (closed by server)"
                self._error = AmiConnectionError(f"connection to {self.host}:{self.port} lost{detail}")
                log.warning("%s", self._error)
            waiters = [*self._pending.values(), *self._anonymous]
            self._pending.clear()
            self._anonymous.clear()
        error = self._error or AmiConnectionError(f"connection to {self.host}:{self.port} closed")
        for future in waiters:
            future.fail(error)
        self._stop.set()
        self._events.put(_CLOSED)

    def _dispatch(self, message: AmiMessage) -> None:
        if wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("<- %s:%s\n%s", self.host, self.port, message)
        if isinstance(message, AmiResponse):
            self._dispatch_response(message)
        elif message.kind == "event":
            self._dispatch_event(message)
        else:
            log.debug("ignoring unknown message %r", message)

    def _dispatch_response(self, response: AmiResponse) -> None:
        action_id = response.action_id
        with self._lock:
            if action_id is not None:
                future = self._pending.get(action_id)
            else:
                future = self._anonymous.popleft() if self._anonymous else None
        if response.status.lower() == "goodbye" or (future is not None and future.name == "Login" and not response.ok):
            self._closing = True  # the server closes right after Goodbye or a refused Login
        if future is None:
            log.debug("response to unknown ActionID %r dropped", action_id)
        elif future.on_response(response):
            self._forget(future)

    def _dispatch_event(self, event: AmiMessage) -> None:
        action_id = event.action_id
        future = None
        if action_id is not None:
            with self._lock:
                future = self._pending.get(action_id)
        if future is not None:
            if future.on_event(event):
                self._forget(future)
            return
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a consumer bug must not kill the session
                log.exception("on_event callback failed for %s", event.name)
        if self._events.qsize() >= self.max_queued_events:
            self.dropped_events += 1
            if self.dropped_events in (1, 1000) or self.dropped_events % 100_000 == 0:
                log.warning("event queue full, %d events dropped", self.dropped_events)
            return
        self._events.put(event)

    def _forget(self, future: AmiFuture) -> None:
        with self._lock:
            if future.action_id is not None and self._pending.get(future.action_id) is future:
                del self._pending[future.action_id]

    # -- keepalive thread ----------------------------------------------------------------
    def _keepalive_loop(self) -> None:
        assert self.keepalive
        while not self._stop.is_set():
            idle = time.monotonic() - self.last_rx
            if idle < self.keepalive:
                self._stop.wait(self.keepalive - idle)
                continue
            try:
                self.action("Ping", timeout=self.timeout, check=False)
            except AmiTimeoutError:
                if not self._stop.is_set():
                    self._fail(AmiTimeoutError(f"no answer to keepalive Ping from {self.host}:{self.port} "
                                               f"within {self.timeout}s"))
                return
            except AmiError:
                return  # closed meanwhile

    # -- sending -------------------------------------------------------------------------
    def next_action_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    def send_action(self, name: str, *, expect_event: str | None = None, **headers: Any) -> AmiFuture:
        """Send without waiting; the returned future resolves by ActionID.

        Header keywords use AMI spelling (`Queue=`, `Module=`); None omits a header,
        a list repeats it, a dict becomes `Variable: k=v` lines. `ActionID` defaults
        to a generated one; `ActionID=None` sends none (answer matched in order).
        `expect_event` keeps the action open until that event (with its ActionID) arrives.
        """
        action_id = headers.pop("ActionID", AUTO)
        if action_id is AUTO:
            action_id = self.next_action_id()
        data = encode_action(name, {"ActionID": action_id, **headers})
        future = AmiFuture(name, action_id, expect_event)
        with self._send_lock:
            with self._lock:
                if self._closed or self._sock is None:
                    raise self._error or AmiConnectionError(f"{self!r} is not connected")
                if action_id is None:
                    self._anonymous.append(future)
                elif action_id in self._pending:
                    raise ValueError(f"ActionID {action_id!r} is already in use")
                else:
                    self._pending[action_id] = future
            if wire_log.isEnabledFor(logging.DEBUG):
                wire_log.debug("-> %s:%s\n%s", self.host, self.port, redact(data.decode("utf-8", "replace")))
            try:
                self._sock.sendall(data)
            except OSError as exc:
                self._forget(future)
                error = AmiConnectionError(f"sending {name} to {self.host}:{self.port}: {exc}")
                self._fail(error)
                raise error from exc
        return future

    def action(
        self,
        name: str,
        *,
        timeout: float | None = None,
        check: bool = True,
        expect_event: str | None = None,
        **headers: Any,
    ) -> AmiResponse:
        """Send an action and wait until it is finished (list collected, follow-up
        event received). Raises AmiActionError on `Response: Error` if `check`."""
        future = self.send_action(name, expect_event=expect_event, **headers)
        try:
            response = future.result(self.timeout if timeout is None else timeout)
        except AmiTimeoutError:
            self._forget(future)  # a late answer is then dropped, not misrouted
            raise
        if check and not response.ok:
            raise AmiActionError(name, response.message or response.status, response)
        return response

    # -- events ----------------------------------------------------------------------------
    def next_event(self, timeout: float | None = None) -> AmiMessage | None:
        """The next unsolicited event, None after `timeout`; raises AmiConnectionError
        once the connection is closed (after every queued event was taken)."""
        try:
            item = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._events.put(_CLOSED)  # stays closed for the next caller
            raise self._error or AmiConnectionError(f"connection to {self.host}:{self.port} closed")
        return item

    def events(self) -> Iterator[AmiMessage]:
        """Iterate events until close(); raises AmiConnectionError if the session is lost."""
        while True:
            try:
                event = self.next_event()
            except AmiConnectionError:
                if self._error is None:
                    return
                raise
            if event is not None:
                yield event
