"""The listener end to end against a protocol-faithful AMI peer: recorded events re-chunked on
the wire, the resync on (re)connect, a restart in the middle of a call, one leader per server."""
from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from apps.calls.models import Call
from apps.events.models import OutboxEvent
from apps.pbx import listening
from apps.pbx.models import Server
from tests.calls.conftest import event_bytes, rechunk
from tests.pbx.peers import AmiScript, ScriptedAmiServer
from tests.pbx.peers import ami_wire


def empty_list(complete: str, message: str):
    def reply(frame: bytes) -> bytes:
        aid = ami_wire.get(frame, "ActionID")
        return (ami_wire.response(aid, ("Response", "Success"), ("EventList", "start"), ("Message", message))
                + f"Event: {complete}\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n".encode())
    return reply


def peer_script(**kw) -> AmiScript:
    return AmiScript(handlers={"filter": lambda frame: ami_wire.response(ami_wire.get(frame, "ActionID"),
                                                                         ("Response", "Success")),
                               "coreshowchannels": empty_list("CoreShowChannelsComplete", "Channels will follow"),
                               "queuestatus": empty_list("QueueStatusComplete", "Queue status will follow")}, **kw)


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def acme_calls(world):
    with tenant_context(world.acme):
        return list(Call.objects.values("linkedid", "status", "disposition"))


def start_listener(server) -> listening.ServerListener:
    thread = listening.ServerListener(server, keepalive=5, timeout=2, reconnect_delay=0.05)
    thread.start()
    return thread


@pytest.fixture
def peer():
    server = ScriptedAmiServer(peer_script()).start()
    yield server
    server.close()


def send(peer, data: bytes) -> None:
    assert wait_for(lambda: peer.emit(b"") > 0), "the listener never logged in"
    for piece in rechunk(data):
        peer.emit(piece)


def test_recorded_calls_over_the_wire_become_records(peer, committed_pbx, committed_world):
    world = committed_world
    server = committed_pbx["server"]
    Server.objects.filter(pk=server.pk).update(ami_port=peer.port)
    server.refresh_from_db()
    thread = start_listener(server)
    try:
        send(peer, event_bytes("sip-call") + event_bytes("queue-call"))
        assert wait_for(lambda: [c["status"] for c in acme_calls(world)] == ["ended", "ended"])
    finally:
        thread.stop()
        thread.join(10)
    assert thread.error is None
    actions = [ami_wire.get(f, "Action") for f in peer.actions[0]]
    assert actions[:4] == ["Login", "Filter", "CoreShowChannels", "QueueStatus"]
    login, event_filter = peer.actions[0][:2]
    # Only what the portal reads crosses the wire: the classes at login, then a whitelist filter.
    assert ami_wire.get(login, "Events") == "call,dialplan,agent"
    pattern = ami_wire.get(event_filter, "Filter")
    import re

    assert re.search(pattern, "Event: Newexten\r\n") and re.search(pattern, "Event: Hangup\r\n")
    assert not re.search(pattern, "Event: VarSet\r\n") and not re.search(pattern, "Event: HangupRequest\r\n")
    assert OutboxEvent.objects.filter(type="communications.call.ended").count() == 2


def test_a_call_left_open_by_a_restart_is_closed_by_the_resync(peer, committed_pbx, committed_world):
    world = committed_world
    server = committed_pbx["server"]
    Server.objects.filter(pk=server.pk).update(ami_port=peer.port)
    server.refresh_from_db()
    data = event_bytes("sip-call")
    cut = data.index(b"Event: Hangup")  # the listener dies while the call is up
    thread = start_listener(server)
    try:
        send(peer, data[:cut])
        assert wait_for(lambda: [c["status"] for c in acme_calls(world)] == ["answered"])
    finally:
        thread.stop()
        thread.join(10)
    # The PBX restarted meanwhile: a new listener's CoreShowChannels lists no channel.
    thread = start_listener(server)
    try:
        assert wait_for(lambda: [c["status"] for c in acme_calls(world)] == ["ended"])
    finally:
        thread.stop()
        thread.join(10)
    [call] = acme_calls(world)
    assert call["disposition"] == "answered"
    assert OutboxEvent.objects.filter(type="communications.call.ended").count() == 1
    assert OutboxEvent.objects.filter(type="communications.call.answered").count() == 1


def test_a_second_listener_for_the_same_server_stands_by(peer, committed_pbx):
    server = committed_pbx["server"]
    Server.objects.filter(pk=server.pk).update(ami_port=peer.port)
    server.refresh_from_db()
    first = start_listener(server)
    second = listening.ServerListener(server, keepalive=5, timeout=2, standby_retry=0.2)
    try:
        assert first.leader.wait(5)
        second.start()
        time.sleep(0.6)
        assert not second.leader.is_set()
        first.stop()
        first.join(10)
        assert second.leader.wait(5), "the standby takes over when the leader is gone"
    finally:
        for thread in (first, second):
            thread.stop()
            thread.join(10)
