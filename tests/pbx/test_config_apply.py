"""Applying a server's configuration: files written atomically, reload through AMI against a
peer replaying the recorded Asterisk 22 session, progress, retries and the API around it."""
import os
import socket

import pytest

from apps.events.models import OutboxEvent
from apps.pbx.apply import write_files
from apps.pbx.models import ConfigPush, Server
from apps.pbx.render import FILES, render_server
from apps.pbx.render.confcheck import validate
from apps.pbx.services import config_push_request
from apps.pbx.tasks import apply_config, retry_delay
from apps.telephony import services as tel
from tests.pbx.golden.demo import build_demo
from tests.pbx.peers import AmiReplayServer, AmiScript, ScriptedAmiServer
from tests.pbx.peers import ami_wire
from tests.pbx.test_config_transcripts import sliced

pytestmark = pytest.mark.django_db

# After app_queue reloads, a push syncs the agents of each queue (QueueStatus, then adds/removes).
ALL_RELOADS = ["reload-pjsip", "cmd-dpreload", "reload-queue", "reload-vm", "reload-moh", "reload-confbridge",
               "reload-parking", "queue:qs-1"]
VOICEMAIL = {"reload-vm": ("reload-queue", {b"app_queue.so": b"app_voicemail.so"}),
             "reload-moh": ("reload-queue", {b"app_queue.so": b"res_musiconhold.so"}),
             "reload-confbridge": ("reload-queue", {b"app_queue.so": b"app_confbridge.so"}),
             "reload-parking": ("reload-queue", {b"app_queue.so": b"res_parking.so"})}
# The recording's queue is acme-sales; the demo's is acme-2000 (number 2000).
RENAME = {b"acme-sales": b"acme-2000"}


@pytest.fixture(autouse=True)
def fast_ami(settings):
    settings.PBX_AMI_TIMEOUT = 3.0
    settings.PBX_APPLY_MAX_RETRIES = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def push_now(server: Server) -> ConfigPush:
    from apps.accounts.principal import Principal

    push = config_push_request(actor=Principal.system("tests"), server=server)
    apply_config.apply(args=[server.pk, push.pk])
    push.refresh_from_db()
    return push


def assert_replayed(peer):
    peer.wait_idle()
    assert peer.errors == []
    assert peer.finished


def test_first_push_writes_every_file_and_reloads_each_module(world, system_actor, tmp_path):
    transcript = sliced("reload", ALL_RELOADS, derive=VOICEMAIL, rename=RENAME)
    with AmiReplayServer(transcript, chunking="random:1-7") as peer:
        server, _ = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port, config_dir=str(tmp_path))
        push = push_now(server)
        assert_replayed(peer)
    assert push.status == "succeeded", push.error
    assert push.progress == 100 and push.attempts == 1 and push.finished_at is not None
    assert push.files_changed == sorted(FILES)
    assert push.modules_reloaded == ["res_pjsip.so", "dialplan reload", "app_queue.so", "app_voicemail.so",
                                     "res_musiconhold.so", "app_confbridge.so", "res_parking.so"]
    rendered = render_server(server)
    assert push.checksum == rendered.checksum and push.tenant_count == 2
    for name in FILES:
        assert (tmp_path / name).read_text() == rendered.files[name]
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(0o640)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    server.refresh_from_db()
    assert server.pending_reload == []
    event = OutboxEvent.objects.get(type="server.config_applied")
    assert event.data["push"] == push.pk and event.system


def test_unchanged_configuration_touches_nothing_and_does_not_reload(world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    write_files(str(tmp_path), render_server(server).files)
    before = {name: (tmp_path / name).stat().st_mtime_ns for name in FILES}
    push = push_now(server)  # no AMI server listens: a reload attempt would fail
    assert push.status == "succeeded" and push.files_changed == [] and push.modules_reloaded == []
    assert push.stage == "done"
    assert {name: (tmp_path / name).stat().st_mtime_ns for name in FILES} == before


def test_a_queue_change_rewrites_queues_conf_and_reloads_only_app_queue(world, system_actor, tmp_path):
    with AmiReplayServer(sliced("reload", ["reload-queue", "queue:qs-1"], rename=RENAME)) as peer:
        server, objects = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port,
                                     config_dir=str(tmp_path))
        write_files(str(tmp_path), render_server(server).files)
        tel.queue_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["sales"], ring_timeout=30)
        push = push_now(server)
        assert_replayed(peer)
    assert push.status == "succeeded", push.error
    assert push.files_changed == ["queues.conf"] and push.modules_reloaded == ["app_queue.so"]
    assert "timeout = 30" in (tmp_path / "queues.conf").read_text()


def test_unreachable_server_is_retried_with_backoff_then_the_push_fails(world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    push = push_now(server)
    assert push.status == "failed" and push.attempts == 3  # first try + PBX_APPLY_MAX_RETRIES
    assert "gave up after 3 attempts" in push.error and "portal-secret" not in push.error
    assert push.files_changed == sorted(FILES)  # written; the reload is what failed
    server.refresh_from_db()
    assert server.pending_reload == sorted(FILES)
    assert OutboxEvent.objects.filter(type="server.config_failed", data__push=push.pk).exists()


def test_files_written_by_a_failed_push_are_reloaded_by_the_next_one(world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    assert push_now(server).status == "failed"
    with AmiReplayServer(sliced("reload", ALL_RELOADS, derive=VOICEMAIL, rename=RENAME)) as peer:
        Server.objects.filter(pk=server.pk).update(ami_host=peer.host, ami_port=peer.port)
        push = push_now(server)
        assert_replayed(peer)
    assert push.status == "succeeded" and push.files_changed == []
    assert push.modules_reloaded == ["res_pjsip.so", "dialplan reload", "app_queue.so", "app_voicemail.so",
                                     "res_musiconhold.so", "app_confbridge.so", "res_parking.so"]


def test_a_server_that_comes_back_during_the_retries_gets_the_push(world, system_actor, tmp_path):
    def ok(frame):
        return ami_wire.response(ami_wire.get(frame, "ActionID"), ("Response", "Success"),
                                 ("Message", "Module Reloaded"))

    def command(frame):
        return ami_wire.response(ami_wire.get(frame, "ActionID"), ("Response", "Success"),
                                 ("Message", "Command output follows"), ("Output", "Dialplan reloaded."))

    script = AmiScript(handlers={"reload": ok, "command": command})
    with ScriptedAmiServer(AmiScript(refuse=True), script) as peer:
        server, _ = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port, config_dir=str(tmp_path))
        push = push_now(server)
    assert push.status == "succeeded", push.error
    assert push.attempts == 2 and peer.connections == 2


def test_refused_login_fails_at_once_without_retrying(world, system_actor, tmp_path):
    with ScriptedAmiServer(AmiScript(accept_login=False)) as peer:
        server, _ = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port, config_dir=str(tmp_path))
        push = push_now(server)
    assert push.status == "failed" and push.attempts == 1
    assert "login refused" in push.error and peer.connections == 1


def test_missing_config_dir_fails_the_push_and_writes_nothing(world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world, config_dir=str(tmp_path / "not-mounted"))
    push = push_now(server)
    assert push.status == "failed" and "does not exist" in push.error
    assert not (tmp_path / "not-mounted").exists()


def test_backoff_doubles_and_is_capped(settings):
    settings.PBX_APPLY_RETRY_BASE = 5
    settings.PBX_APPLY_RETRY_MAX = 60
    delays = [retry_delay(n) for n in range(6)]
    for n, delay in enumerate(delays):
        expected = min(60, 5 * 2 ** n)
        assert expected <= delay <= expected * 1.1


# --- the API -------------------------------------------------------------------------------------

def test_config_endpoint_returns_every_file_and_one_as_text(api, world, system_actor, tmp_path):
    server, _ = build_demo(system_actor, world, config_dir=str(tmp_path))
    response = api("system").get(f"/api/servers/{server.pk}/config")
    assert response.status_code == 200
    assert sorted(response.json()) == sorted(FILES)
    assert "[1001-acme](tl-phone)" in response.json()["pjsip.conf"]
    assert response["ETag"] == f'"{render_server(server).checksum}"'
    response = api("system").get(f"/api/servers/{server.pk}/config?file=queues.conf")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert b"[acme-2000]" in response.content
    response = api("system").get(f"/api/servers/{server.pk}/config?file=../../etc/passwd")
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_config_from_the_api_never_shows_secrets(api, world, system_actor):
    server, _ = build_demo(system_actor, world)
    files = api("system").get(f"/api/servers/{server.pk}/config").json()
    real = render_server(server).files
    assert "password = Demo-acme-Sip-baab9" in real["pjsip.conf"] and "1001 => 4827," in real["voicemail.conf"]
    for secret in ("Demo-acme-Sip", "Trunk-A-Secret", "4827"):
        assert not any(secret in text for text in files.values()), secret
    assert "password = ********" in files["pjsip.conf"] and "1001 => ********,Alice Smith" in files["voicemail.conf"]
    assert validate(files) == []  # still a well-formed bundle


def test_config_is_for_system_credentials_only(api, world, system_actor):
    server, _ = build_demo(system_actor, world)
    for label in ("reseller", "acme"):
        response = api(label).get(f"/api/servers/{server.pk}/config")
        assert response.status_code in (403, 404), label
    assert api("system_ro").get(f"/api/servers/{server.pk}/config").status_code == 200


def test_apply_endpoint_queues_a_push_and_pushes_lists_it_with_progress(api, world, system_actor,
                                                                         django_capture_on_commit_callbacks, tmp_path):
    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api("system").post(f"/api/servers/{server.pk}/apply")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["progress"] == 0
    assert response["Location"] == f"/api/servers/{server.pk}/pushes/{body['id']}/"
    assert len(callbacks) == 1  # the task is sent only once the request's transaction commits
    apply_config.apply(args=[server.pk, body["id"]])
    listing = api("system").get(f"/api/servers/{server.pk}/pushes/")
    assert listing.status_code == 200 and listing["X-Total-Count"] == "1"
    assert listing.json()[0]["id"] == body["id"] and listing.json()[0]["status"] == "failed"
    detail = api("system").get(f"/api/servers/{server.pk}/pushes/{body['id']}/")
    assert detail.json()["files_changed"] == sorted(FILES) and detail.json()["progress"] == 60
    assert api("system_ro").post(f"/api/servers/{server.pk}/apply").status_code == 403
    assert api("reseller").post(f"/api/servers/{server.pk}/apply").status_code == 403


def test_ami_check_reports_the_version_or_the_error(api, world, system_actor):
    with ScriptedAmiServer(AmiScript()) as peer:
        server, _ = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port)
        body = api("system").post(f"/api/servers/{server.pk}/ami-check").json()
    assert body["ok"] is True and body["ami_version"] == "11.0.0"
    Server.objects.filter(pk=server.pk).update(ami_port=free_port())
    body = api("system").post(f"/api/servers/{server.pk}/ami-check").json()
    assert body["ok"] is False and "cannot connect" in body["error"]


def test_changed_tenants_get_their_server_pushed_once(world, system_actor, tmp_path, django_capture_on_commit_callbacks):
    from apps.pbx.tasks import push_changed_servers

    server, objects = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    idle = make_idle_server()
    with django_capture_on_commit_callbacks(execute=False):
        first = push_changed_servers()
        assert push_changed_servers() == []  # one is pending already
    assert first == [ConfigPush.objects.get(server=server).pk]
    assert not ConfigPush.objects.filter(server=idle).exists()
    ConfigPush.objects.filter(pk=first[0]).update(status="succeeded")
    with django_capture_on_commit_callbacks(execute=False):
        assert push_changed_servers() == []  # nothing changed since
        tel.queue_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["sales"], wrapup_time=5)
        assert len(push_changed_servers()) == 1


def make_idle_server():
    from tests.pbx.golden.demo import make_server

    return make_server(name="pbx-idle")


def test_a_tenant_moved_away_gets_its_old_server_pushed_too(world, system_actor, tmp_path,
                                                            django_capture_on_commit_callbacks):
    from apps.pbx.tasks import push_changed_servers
    from apps.tenants.services import tenant_update

    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(tmp_path))
    push = push_now(server)
    assert push.tenant_ids == sorted([world.acme.pk, world.globex.pk])
    ConfigPush.objects.filter(pk=push.pk).update(status="succeeded")
    other = make_idle_server()
    with django_capture_on_commit_callbacks(execute=False):
        tenant_update(actor=system_actor, tenant=world.globex, primary_server=other)
        queued = ConfigPush.objects.filter(pk__in=push_changed_servers())
        assert sorted(p.server.name for p in queued) == ["pbx-demo-1", "pbx-idle"]


# --- agents follow the configuration --------------------------------------------------------------

def login(world, objects, state="logged_in", reason=""):
    from django_tenants.utils import tenant_context

    from apps.telephony.models import Agent

    with tenant_context(world.acme):
        Agent.objects.filter(pk=objects["acme"]["agent"].pk).update(state=state, pause_reason=reason)


def test_a_logged_in_agent_is_added_to_its_queue_after_the_reload(world, system_actor, tmp_path):
    server, objects = build_demo(system_actor, world, config_dir=str(tmp_path))
    login(world, objects)
    # The recorded QueueAdd: PJSIP/1001-acme, penalty 1, as our agent "Alice Agent" on extension 1001.
    transcript = sliced("reload", ALL_RELOADS + ["queue:qadd-1"], derive=VOICEMAIL,
                        rename={**RENAME, b"Acme 1001": b"Alice Agent"})
    with AmiReplayServer(transcript) as peer:
        Server.objects.filter(pk=server.pk).update(ami_host=peer.host, ami_port=peer.port)
        push = push_now(server)
        assert_replayed(peer)
    assert push.status == "succeeded", push.error


def test_queue_members_on_the_pbx_are_brought_in_line(world, system_actor, tmp_path):
    """The PBX reports 1001 paused (the recorded QueueStatus after a pause): a logged-in agent
    gets unpaused; a logged-out one removed."""
    server, objects = build_demo(system_actor, world, config_dir=str(tmp_path))
    write_files(str(tmp_path), render_server(server).files)
    paused_on_pbx = {"queue:qs-all": ("queue:qs-2", {b"Member: PJSIP/1001-acme\r\n": b""})}
    for state, step in (("logged_in", "queue:qpause-2"), ("logged_out", "queue:qrem-1")):
        login(world, objects, state)
        tel.queue_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["sales"],
                         ring_timeout=20 if state == "logged_in" else 25)
        transcript = sliced("reload", ["reload-queue", "queue:qs-all", step], derive=paused_on_pbx, rename=RENAME)
        with AmiReplayServer(transcript) as peer:
            Server.objects.filter(pk=server.pk).update(ami_host=peer.host, ami_port=peer.port)
            push = push_now(server)
            assert_replayed(peer)
        assert push.status == "succeeded", (state, push.error)
