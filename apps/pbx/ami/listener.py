"""A long-lived AMI event consumer that survives silence, drops and restarts.

Used by `manage.py ami_listen` (one per PBX server). Each session is a fresh
AmiConnection with keepalive on; when it is lost (server restart, network drop,
or a server that stops answering Pings) the listener reconnects with exponential
backoff and jitter, so a fleet of listeners does not hammer a restarting Asterisk
in lock-step. Events that happen while disconnected are lost (AMI has no replay):
`on_connect` is the place to resynchronise (e.g. CoreShowChannels).

A refused login is not retried: it is a configuration error, and retrying it
every few seconds would only fill Asterisk's security log.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .connection import AmiConnection
from .errors import AmiAuthError, AmiConnectionError
from .message import AmiMessage

log = logging.getLogger("apps.pbx.ami")


class AmiListener:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        timeout: float = 10.0,
        keepalive: float = 20.0,
        events: bool | str = True,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        on_connect: Callable[[AmiConnection], Any] | None = None,
        on_disconnect: Callable[[BaseException], Any] | None = None,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self.timeout = timeout
        self.keepalive = keepalive
        self.event_mask = events
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.connects = 0  # successful logins, for monitoring and tests
        self._stop = threading.Event()
        self._conn: AmiConnection | None = None

    def __repr__(self) -> str:
        return f"<AmiListener {self.host}:{self.port} user={self.username!r}>"

    @property
    def connection(self) -> AmiConnection | None:
        """The live session, e.g. to send an action from on_connect or another thread."""
        return self._conn

    def stop(self) -> None:
        """Make events()/run() return; safe to call from any thread or signal handler."""
        self._stop.set()
        conn = self._conn
        if conn is not None:
            conn.logoff()

    def run(self, callback: Callable[[AmiMessage], Any]) -> None:
        for event in self.events():
            callback(event)

    def events(self) -> Iterator[AmiMessage]:
        """Yield events forever (across reconnects) until stop(); raises AmiAuthError."""
        failures = 0
        while not self._stop.is_set():
            conn = AmiConnection(
                self.host, self.port, self.username, self._secret,
                timeout=self.timeout, keepalive=self.keepalive, events=self.event_mask,
            )
            try:
                conn.connect()
                conn.login()
            except AmiAuthError:
                raise
            except AmiConnectionError as exc:
                conn.close()
                failures += 1
                self._disconnected(exc, failures)
                continue
            failures = 0
            self._conn = conn
            self.connects += 1
            log.info("AMI listener logged in to %s:%s (%s)", self.host, self.port, conn.banner)
            try:
                if self._stop.is_set():  # stop() raced with the login
                    return
                if self.on_connect is not None:
                    self.on_connect(conn)
                yield from conn.events()  # returns only when stop() closed it
            except AmiConnectionError as exc:
                failures = 1
                self._disconnected(exc, failures)
            finally:  # also when the consumer stops iterating (GeneratorExit)
                self._conn = None
                conn.logoff()

    def _disconnected(self, exc: BaseException, failures: int) -> None:
        if self.on_disconnect is not None:
            self.on_disconnect(exc)
        delay = min(self.max_reconnect_delay, self.reconnect_delay * 2 ** (failures - 1))
        delay *= random.uniform(0.5, 1.0)
        log.warning("AMI %s:%s: %s; reconnecting in %.1fs", self.host, self.port, exc, delay)
        self._stop.wait(delay)
