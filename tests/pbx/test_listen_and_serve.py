"""manage.py ami_listen / agi_serve plumbing: one listener per server, events reach handlers."""
import time

import pytest
from django.core.management import CommandError, call_command

from apps.pbx import listening
from apps.pbx.models import Server

from .peers import AmiScript

pytestmark = pytest.mark.django_db

QUEUE_PAUSE = (b"Event: QueueMemberPause\r\nPrivilege: agent,all\r\nQueue: acme-sales\r\n"
               b"MemberName: Alice\r\nInterface: PJSIP/1001-acme\r\nPaused: 1\r\nPausedReason: lunch\r\n\r\n")


def make_server(port: int, name: str = "pbx-1") -> Server:
    return Server.objects.create(name=name, host="127.0.0.1", sip_address="127.0.0.1", ami_host="127.0.0.1",
                                 ami_port=port, ami_username="portal", ami_secret="portal-secret")


def test_listener_dispatches_events_to_registered_handlers(scripted):
    peer = scripted(AmiScript())
    server = make_server(peer.port)
    seen = []
    handler = listening.on_ami_event("QueueMemberPause")(lambda srv, event: seen.append((srv.name, event)))
    try:
        thread = listening.ServerListener(server, keepalive=5)
        thread.start()
        deadline = time.monotonic() + 5
        while peer.emit(QUEUE_PAUSE) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        thread.stop()
        thread.join(5)
    finally:
        listening._handlers["QueueMemberPause"].remove(handler)
    assert seen and seen[0][0] == "pbx-1"
    event = seen[0][1]
    assert event["queue"] == "acme-sales" and event["paused"] is True and event["interface"] == "PJSIP/1001-acme"


def test_a_failing_handler_does_not_stop_the_others(scripted):
    peer = scripted(AmiScript())
    server = make_server(peer.port)
    seen = []

    def broken(srv, event):
        raise RuntimeError("bug in a handler")

    good = listening.on_ami_event("*")(lambda srv, event: seen.append(event["event"]))
    listening.on_ami_event("QueueMemberPause")(broken)
    try:
        from apps.pbx.ami import parse_message

        assert listening.dispatch(server, parse_message(QUEUE_PAUSE)) == 1
    finally:
        listening._handlers["*"].remove(good)
        listening._handlers["QueueMemberPause"].remove(broken)
    assert seen == ["QueueMemberPause"]


def test_refused_login_makes_ami_listen_fail_with_a_reason(scripted):
    peer = scripted(AmiScript(accept_login=False))
    make_server(peer.port)
    with pytest.raises(CommandError, match="pbx-1"):
        call_command("ami_listen", seconds=1.5)


def test_ami_listen_without_servers_says_why():
    with pytest.raises(CommandError, match="No active PBX server"):
        call_command("ami_listen", seconds=0.1)
    with pytest.raises(CommandError, match="Unknown"):
        make_server(1)
        call_command("ami_listen", server=["nope"], seconds=0.1)
