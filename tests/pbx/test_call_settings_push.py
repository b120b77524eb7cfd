"""A call setting changed through the API reaches AstDB on the tenant's server at once (AMI DBPut),
with the same string the renderer and the feature-code AGI write (issue 12)."""
from __future__ import annotations

import pytest

from apps.telephony import services as tel
from apps.telephony.tasks import push_call_settings
from tests.pbx.golden.demo import ext, host_on, make_server
from tests.pbx.peers import AmiScript, ScriptedAmiServer, ami_wire

pytestmark = pytest.mark.django_db


def dbput_ok(frames):
    def handler(frame):
        frames.append(frame)
        return ami_wire.response(ami_wire.get(frame, "ActionID"), ("Response", "Success"),
                                 ("Message", "Updated database successfully"))
    return handler


def test_a_settings_change_is_queued_after_commit_and_written_with_dbput(world, system_actor,
                                                                       django_capture_on_commit_callbacks):
    frames: list[bytes] = []
    with ScriptedAmiServer(AmiScript(handlers={"dbput": dbput_ok(frames)})) as peer:
        server = make_server(ami_host=peer.host, ami_port=peer.port)
        host_on(server, world.acme)
        alice = ext(system_actor, world.acme, "1001", "Alice")
        with django_capture_on_commit_callbacks() as callbacks:
            tel.extension_update(actor=system_actor, tenant=world.acme, instance=alice, name="Alice S.")
        assert callbacks == []  # not a call setting
        with django_capture_on_commit_callbacks() as callbacks:
            alice = tel.extension_update(actor=system_actor, tenant=world.acme, instance=alice, dnd=True,
                                         forward_busy="+14155550123")
        assert len(callbacks) == 1
        assert push_call_settings.apply(args=[world.acme.pk, alice.pk]).get() == "1:1::+14155550123::0"
    assert [(ami_wire.get(f, "Family"), ami_wire.get(f, "Key"), ami_wire.get(f, "Val")) for f in frames] == [
        ("TL", "acme/1001", "1:1::+14155550123::0")]


def test_without_a_server_nothing_is_queued(world, system_actor, django_capture_on_commit_callbacks):
    alice = ext(system_actor, world.globex, "1001", "Alice")
    with django_capture_on_commit_callbacks() as callbacks:
        tel.extension_update(actor=system_actor, tenant=world.globex, instance=alice, dnd=True)
    assert callbacks == []


def test_an_unreachable_server_gives_up_quietly(world, system_actor, settings):
    settings.PBX_AMI_TIMEOUT = 0.5
    server = make_server(ami_host="127.0.0.1", ami_port=9)  # nothing listens on the discard port
    host_on(server, world.acme)
    alice = ext(system_actor, world.acme, "1001", "Alice")
    result = push_call_settings.apply(args=[world.acme.pk, alice.pk], retries=3).get()
    assert result == "unreachable"
