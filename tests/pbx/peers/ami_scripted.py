"""A scripted AMI server for behaviour no recording can show on demand:
a server that goes silent, stops answering, drops the connection, or refuses
the login. Its replies copy the byte layout of the Asterisk 22 recordings
(banner, `Response:` then `ActionID:`, FullyBooted after login, Goodbye).

Each connection follows the next AmiScript given; the last one repeats, so
`ScriptedAmiServer(AmiScript(drop_after=0.2), AmiScript())` drops the first
session and serves the reconnect normally.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import ami_wire
from .tcp import PeerServer, StreamReader

FULLY_BOOTED = (
    b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 25\r\nLastReload: 25\r\n"
    b"Status: Fully Booted\r\n\r\n"
)

Handler = Callable[[bytes], bytes]


@dataclass
class AmiScript:
    refuse: bool = False  # close right after accept, before the banner (Asterisk starting up)
    username: str = "portal"
    secret: str = "portal-secret"
    accept_login: bool = True
    login_delay: float = 0.0  # Asterisk waits ~1 s before refusing; tests shorten it
    answer_pings: bool = True
    mute_after: float | None = None  # after login: swallow every action, keep the socket
    drop_after: float | None = None  # after login: close the socket
    login_events: list[bytes] = field(default_factory=lambda: [FULLY_BOOTED])
    handlers: dict[str, Handler] = field(default_factory=dict)  # Action name (lower) -> reply


class ScriptedAmiServer(PeerServer):
    POLL = 0.01

    def __init__(self, *scripts: AmiScript) -> None:
        super().__init__()
        self.scripts = scripts or (AmiScript(),)
        self.actions: list[list[bytes]] = []  # per connection, every frame received
        self.pings: list[float] = []  # monotonic times of Pings received (all connections)
        self._live: dict[int, socket.socket] = {}
        self._send_lock = threading.Lock()

    def emit(self, event: bytes) -> int:
        """Send an event to every logged-in session; returns how many got it."""
        with self._send_lock:
            targets = list(self._live.values())
            for conn in targets:
                try:
                    conn.sendall(event)
                except OSError:
                    pass
        return len(targets)

    def handle(self, conn: socket.socket, index: int) -> None:
        script = self.scripts[min(index, len(self.scripts) - 1)]
        frames: list[bytes] = []
        self.actions.append(frames)
        reader = StreamReader(conn)
        if script.refuse:
            return
        conn.sendall(ami_wire.BANNER)
        logged_in_at: float | None = None
        try:
            while not self._closed.is_set():
                since_login = None if logged_in_at is None else time.monotonic() - logged_in_at
                if script.drop_after is not None and since_login is not None and since_login >= script.drop_after:
                    return
                frame = reader.read_until(b"\r\n\r\n", self.POLL)
                if frame is None:
                    if reader.eof:
                        return
                    continue
                frames.append(frame)
                action = (ami_wire.get(frame, "Action") or "").lower()
                if action == "ping":
                    self.pings.append(time.monotonic())
                if script.mute_after is not None and since_login is not None and since_login >= script.mute_after:
                    continue  # a hung Asterisk: reads, never answers
                if action == "login":
                    if not self._login(conn, frame, script):
                        return
                    logged_in_at = time.monotonic()
                    with self._send_lock:
                        self._live[index] = conn
                    continue
                if not self._answer(conn, frame, action, script, logged_in_at is not None):
                    return
        finally:
            with self._send_lock:
                self._live.pop(index, None)

    def _login(self, conn: socket.socket, frame: bytes, script: AmiScript) -> bool:
        aid = ami_wire.get(frame, "ActionID")
        ok = (
            script.accept_login
            and ami_wire.get(frame, "Username") == script.username
            and ami_wire.get(frame, "Secret") == script.secret
        )
        if not ok:
            time.sleep(script.login_delay)
            conn.sendall(ami_wire.response(aid, ("Response", "Error"), ("Message", "Authentication failed")))
            return False  # Asterisk closes the session after a failed login
        reply = ami_wire.response(aid, ("Response", "Success"), ("Message", "Authentication accepted"))
        if (ami_wire.get(frame, "Events") or "on").lower() != "off":
            reply += b"".join(script.login_events)
        with self._send_lock:
            conn.sendall(reply)
        return True

    def _answer(self, conn: socket.socket, frame: bytes, action: str, script: AmiScript, authed: bool) -> bool:
        aid = ami_wire.get(frame, "ActionID")
        keep_open = True
        if not authed:
            reply = ami_wire.response(aid, ("Response", "Error"), ("Message", "Permission denied"))
        elif action == "ping":
            if not script.answer_pings:
                return True
            reply = ami_wire.response(aid, ("Response", "Success"), ("Ping", "Pong"),
                                      ("Timestamp", f"{time.time():.6f}"))
        elif action == "logoff":
            reply = ami_wire.response(aid, ("Response", "Goodbye"), ("Message", "Thanks for all the fish."))
            keep_open = False
        elif action in script.handlers:
            reply = script.handlers[action](frame)
        else:
            name = ami_wire.get(frame, "Action")
            reply = ami_wire.response(aid, ("Response", "Error"), (
                "Message", f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."))
        with self._send_lock:
            conn.sendall(reply)
        return keep_open
