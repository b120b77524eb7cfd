"""``manage.py agi_serve`` as a real process: SIGTERM/SIGINT stop it within a second, and a FastAGI
session in progress when the signal arrives still runs to its end."""
import signal
import socket
import threading
import time

import pytest
from django.db import connection

from apps.pbx.agi import AgiRegistry, FastAgiServer
from tests.helpers.process import ListeningProcess

from .peers import FastAgiAsterisk

pytestmark = pytest.mark.django_db

ENV = {
    "agi_network": "yes",
    "agi_network_script": "crm-lookup?tenant=no-such-tenant",
    "agi_request": "agi://127.0.0.1:4573/crm-lookup?tenant=no-such-tenant",
    "agi_channel": "PJSIP/acme-trunk-1-00000001",
    "agi_uniqueid": "1795750899.47",
    "agi_callerid": "+15559876543",
    "agi_context": "acme-from-did",
    "agi_arg_1": "+15559876543",
}


class AgiServe(ListeningProcess):
    name = "agi-serve"

    def command(self):
        return ["django", "agi_serve", "--host", "127.0.0.1", "--port", str(self.port), "--grace", "5"]

    def ready(self):
        return self.accepts()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_agi_serve_within_a_second_after_the_session_in_flight(sig):
    process = AgiServe(connection.settings_dict["NAME"]).start()
    try:
        signalled = {}

        def answer(line: bytes) -> bytes:
            # The handler is waiting for this reply when the signal arrives.
            signalled["at"] = time.monotonic()
            process.process.send_signal(sig)
            time.sleep(0.3)
            return b"200 result=1\n"

        result = FastAgiAsterisk("127.0.0.1", process.port).session(ENV, answer)
        assert result.errors == []
        assert result.received == [b'VERBOSE "crm-lookup: no such tenant" 3\n']
        assert result.closed_by_server  # the session ended normally, after the signal
        process.process.wait(timeout=5)
        took = time.monotonic() - signalled["at"]
        assert took < 1.0, f"stopped {took:.2f}s after the signal"
        assert process.process.returncode == 0
        assert "1 session(s) in progress were let finish" in process.log()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", process.port), timeout=0.5).close()
    finally:
        process.kill()


def test_shutdown_waits_for_sessions_in_progress_and_refuses_new_ones():
    registry = AgiRegistry()
    release = threading.Event()
    done = []

    @registry.register("slow")
    def slow(env, channel):
        release.wait(2)
        channel.verbose("done")
        done.append(True)

    server = FastAgiServer("127.0.0.1", 0, registry=registry).start()
    host, port = server.address
    results = []
    client = threading.Thread(target=lambda: results.append(FastAgiAsterisk(host, port).session(
        {**ENV, "agi_network_script": "slow"}, lambda line: b"200 result=1\n")))
    client.start()
    deadline = time.monotonic() + 2
    while server.active_sessions == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=lambda: results.append(server.shutdown(grace=3)))
    started = time.monotonic()
    stopper.start()
    time.sleep(0.2)
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=0.5).close()
    assert stopper.is_alive()  # still waiting for the session
    release.set()
    stopper.join(3)
    client.join(3)
    assert done == [True] and results[-1] is True and time.monotonic() - started < 1.5
    assert results[0].received == [b'VERBOSE "done" 1\n'] and results[0].closed_by_server
