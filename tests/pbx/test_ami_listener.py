"""Long-lived sessions: silence, keepalive, hung and dropping servers, reconnects.

Intervals are shrunk (keepalive 0.1-0.2 s, timeout 0.5 s) so the behaviour that
takes minutes in production takes fractions of a second here. One test keeps a
real silence longer than asterisk-ami's 3 s default, the failure seen on a real
Asterisk 22.
"""

from __future__ import annotations

import threading
import time

import pytest

from apps.pbx.ami import AmiAuthError, AmiConnectionError, AmiListener, AmiTimeoutError

from .helpers import SECRET, connect
from .peers import FULLY_BOOTED, AmiScript

CUSTOM_EVENT = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: portal-test\r\n\r\n"


def wait_until(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Consumer:
    """Runs a listener on a thread and keeps what it yields (or raises)."""

    def __init__(self, listener: AmiListener):
        self.listener = listener
        self.events: list = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.listener.events():
                self.events.append(event)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def names(self) -> list[str]:
        return [e.name for e in self.events]

    def stop(self) -> None:
        self.listener.stop()
        self.thread.join(3)
        assert not self.thread.is_alive()


def listener_for(server, **options) -> AmiListener:
    options = {"timeout": 0.5, "keepalive": 0.2, "reconnect_delay": 0.05, **options}
    return AmiListener(server.host, server.port, "portal", SECRET, **options)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_asterisk_ami_017_reader_dies_after_idle_timeout(scripted):
    """Why we do not wrap asterisk-ami (see apps/pbx/ami/__init__.py)."""
    ami = pytest.importorskip("asterisk.ami")
    server = scripted(AmiScript())
    client = ami.AMIClient(address=server.host, port=server.port, timeout=0.3)
    try:
        assert client.login(username="portal", secret=SECRET).response.status == "Success"
        time.sleep(0.5)  # idle longer than its timeout
        assert not client._thread.is_alive()
        assert client.send_action(ami.SimpleAction("Ping")).response is None
    finally:
        client.disconnect()


def test_connection_survives_silence_longer_than_the_old_3s_default(scripted):
    server = scripted(AmiScript(login_events=[]))  # logged in, then not a single event
    with connect(server, timeout=0.5, keepalive=0.2) as ami:
        time.sleep(3.2)
        assert ami.connected
        assert ami.ping()["Ping"] == "Pong"
    gaps = [b - a for a, b in zip(server.pings, server.pings[1:])]
    assert len(server.pings) >= 10  # keepalive Pings all through the silence
    assert max(gaps) < 0.5


def test_keepalive_declares_a_hung_server_dead(scripted):
    server = scripted(AmiScript(mute_after=0.1))  # reads, never answers again
    ami = connect(server, timeout=0.3, keepalive=0.1)
    ami.connect()
    ami.login()
    started = time.monotonic()
    with pytest.raises(AmiTimeoutError, match="keepalive"):
        for _ in ami.events():
            pass
    assert time.monotonic() - started < 1.5
    assert not ami.connected
    ami.close()


def test_pending_action_fails_fast_when_the_server_drops(scripted):
    server = scripted(AmiScript(drop_after=0.2, handlers={"slow": lambda frame: b""}))
    with connect(server, timeout=5) as ami:
        started = time.monotonic()
        with pytest.raises(AmiConnectionError, match="lost"):
            ami.action("Slow")
        assert time.monotonic() - started < 1.0  # not the 5 s timeout


def test_listener_reconnects_after_the_server_drops(scripted):
    server = scripted(AmiScript(drop_after=0.2), AmiScript())
    consumer = Consumer(listener_for(server))
    try:
        assert wait_until(lambda: consumer.listener.connects == 2)
        assert wait_until(lambda: server.emit(CUSTOM_EVENT) and "UserEvent" in consumer.names())
        assert consumer.names()[:2] == ["FullyBooted", "FullyBooted"]  # one per session
    finally:
        consumer.stop()
    assert consumer.error is None and server.errors == []


def test_listener_reconnects_when_the_server_stops_answering(scripted):
    server = scripted(AmiScript(mute_after=0.1), AmiScript())
    disconnects: list = []
    consumer = Consumer(listener_for(server, keepalive=0.1, timeout=0.3, on_disconnect=disconnects.append))
    try:
        assert wait_until(lambda: consumer.listener.connects == 2)
    finally:
        consumer.stop()
    assert isinstance(disconnects[0], AmiTimeoutError)
    assert server.connections == 2


def test_listener_retries_until_asterisk_accepts(scripted):
    server = scripted(AmiScript(refuse=True), AmiScript(refuse=True), AmiScript())
    consumer = Consumer(listener_for(server))
    try:
        assert wait_until(lambda: "FullyBooted" in consumer.names())
    finally:
        consumer.stop()
    assert server.connections == 3 and consumer.listener.connects == 1


def test_listener_does_not_retry_a_refused_login(scripted):
    server = scripted(AmiScript(secret="something-else", login_delay=0.1))
    consumer = Consumer(listener_for(server))
    consumer.thread.join(3)
    assert isinstance(consumer.error, AmiAuthError)
    assert SECRET not in str(consumer.error)
    assert server.connections == 1


def test_listener_stop_logs_off_and_on_connect_can_send_actions(scripted):
    server = scripted(AmiScript(login_events=[FULLY_BOOTED]))
    seen = []
    consumer = Consumer(listener_for(server, on_connect=lambda conn: seen.append(conn.ping()["Ping"])))
    assert wait_until(lambda: consumer.names() == ["FullyBooted"])
    consumer.stop()
    assert seen == ["Pong"]
    assert consumer.error is None
    assert server.actions[0][-1].startswith(b"Action: Logoff\r\n")


def test_breaking_out_of_the_event_loop_logs_off(scripted):
    server = scripted(AmiScript())
    listener = listener_for(server)
    for event in listener.events():
        assert event.name == "FullyBooted"
        break
    assert wait_until(lambda: server.actions[0][-1].startswith(b"Action: Logoff\r\n"))
    assert listener.connection is None
