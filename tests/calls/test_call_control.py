"""Call control: requests are checked against the tenant's own rows (400/404/409 with stable codes),
become jobs (202 + Location), and the job's task puts the exact AMI action on the wire and records
what the PBX answered. Peers answer like the Asterisk 22 recordings (tests/calls/control_peers.py)."""
from __future__ import annotations

import socket

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.calls.models import CallControlJob
from apps.calls.tasks import run_control_job
from apps.pbx.models import Server
from apps.telephony import services as tel
from tests.calls import control_peers
from tests.calls.test_api import GLOBEX, ingest

pytestmark = pytest.mark.django_db

BASE = "/api/call-control/acme/"


@pytest.fixture
def cc(pbx, world, system_actor):
    """acme (on pbx1): phones 1001 Alice and 1002 Bob (agent Bob), a DID, a trunk with a route for
    10-digit numbers (so E.164 goes out too), queue 2000 with 1002 as a static member."""
    with tenant_context(world.acme):
        trunk = tel.trunk_create(actor=system_actor, tenant=world.acme, name="carrier", auth_type="ip_auth",
                                 host="203.0.113.10")
        tel.outbound_route_create(actor=system_actor, tenant=world.acme, name="US", priority=10,
                                  dial_patterns=["_NXXNXXXXXX"], trunks=[trunk.pk])
        tel.did_create(actor=system_actor, tenant=world.acme, number="+14155550199")
        queue = tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Sales",
                                 members=[{"extension": pbx["e2"].pk, "penalty": 0}])
    with tenant_context(world.globex):
        tel.did_create(actor=system_actor, tenant=world.globex, number="+12125550100")
        tel.extension_create(actor=system_actor, tenant=world.globex, number="1009", name="Gus Globex")
    return {**pbx, "queue": queue}


def post(api, action, body, key="acme"):
    return api(key).post(f"{BASE}{action}/", body)


def error(response) -> tuple[int, str, list]:
    body = response.json()
    return response.status_code, body["code"], sorted((body.get("errors") or {}).keys())


def jobs(world) -> int:
    with tenant_context(world.acme):
        return CallControlJob.objects.count()


def job(world, pk) -> CallControlJob:
    with tenant_context(world.acme):
        return CallControlJob.objects.get(pk=pk)


# --- requests -------------------------------------------------------------------------------------

def test_originate_is_accepted_as_a_job_with_its_location_and_an_audit_entry(api, world, cc,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(api, "originate", {"extension": "1001", "number": "+14155550123",
                                           "caller_id": "+14155550199"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"/api/call-control/acme/jobs/{body['id']}/"
    assert body["status"] == "queued" and body["action"] == "originate"
    assert body["parameters"] == {"extension": "1001", "number": "+14155550123", "ring_timeout": 20,
                                  "caller_id_name": "Alice Adams", "caller_id": "+14155550199"}
    assert len(callbacks) == 1  # the task is queued once the job is committed
    assert api("acme").get(response["Location"]).json()["id"] == body["id"]
    assert [j["id"] for j in api("acme").get(f"{BASE}jobs/").json()] == [body["id"]]
    entry = AuditEntry.objects.get(verb="call_control.originate")
    assert entry.tenant_id == world.acme.pk and entry.object_id == str(body["id"])


@pytest.mark.parametrize("body,code,field", [
    ({"extension": "1009", "number": "1002"}, "reference_not_found", "extension"),  # globex's extension
    ({"extension": "1001", "number": "12345"}, "number_not_routable", "number"),  # no route pattern matches
    ({"extension": "1001", "number": "2125550100x"}, "validation_error", "number"),
    ({"extension": "1001", "number": "1002", "caller_id": "+12125550100"}, "caller_id_not_allowed", "caller_id"),
    ({"extension": "1001", "number": "1002", "caller_id": "+19995550100"}, "caller_id_not_allowed", "caller_id"),
    ({"extension": "1001", "number": "1002", "colour": "red"}, "validation_error", "colour"),
])
def test_originate_refuses_what_the_tenant_does_not_own_or_cannot_route(api, world, cc, body, code, field):
    assert error(post(api, "originate", body)) == (400, code, [field])
    assert jobs(world) == 0


def test_routable_numbers_follow_the_dialplan(api, world, cc, system_actor):
    for number in ("1002", "2000", "4155550123", "+4930123456"):  # extension, queue, route pattern, E.164
        assert post(api, "originate", {"extension": "1001", "number": number}).status_code == 202, number
    # globex has no route with a trunk: neither its patterns nor E.164 leave its dialplan.
    with tenant_context(world.globex):
        response = api("globex").post("/api/call-control/globex/originate/",
                                      {"extension": "1009", "number": "+4930123456"})
    assert error(response) == (400, "number_not_routable", ["number"])


def test_a_tenant_without_a_primary_server_gets_409(api, world, cc):
    world.acme.primary_server = None
    world.acme.save(update_fields=["primary_server"])
    assert error(post(api, "originate", {"extension": "1001", "number": "1002"}))[:2] == (409, "no_primary_server")


def test_channel_actions_only_touch_the_tenants_own_live_channels(api, world, cc):
    ingest(cc["server"], "sip-call", stop_before="Hangup")  # acme's call is in progress
    ingest(cc["server"], "sip-call", replace=GLOBEX, stop_before="Hangup")  # and globex's
    ok = post(api, "hangup", {"channel": "PJSIP/1002-acme-00000001"})
    assert ok.status_code == 202, ok.content
    assert ok.json()["parameters"] == {"channel": "PJSIP/1002-acme-00000001", "call_id": "1795750932.48"}
    for channel in ("PJSIP/1001-globex-00000000", "PJSIP/9999-acme-00000009", "PJSIP/1001-acme\r\nAction: x"):
        assert error(post(api, "hangup", {"channel": channel}))[:2] == (404, "channel_not_found"), channel
    moved = post(api, "blind-transfer", {"channel": "PJSIP/1001-acme-00000000", "destination": "2000"})
    assert moved.status_code == 202 and moved.json()["parameters"]["destination"] == "2000"
    assert error(post(api, "attended-transfer", {"channel": "PJSIP/1001-acme-00000000", "destination": "555"})) \
        == (400, "number_not_routable", ["destination"])


def test_an_ended_call_has_no_channel_to_act_on(api, cc):
    ingest(cc["server"], "sip-call")
    assert error(post(api, "hangup", {"channel": "PJSIP/1001-acme-00000000"}))[:2] == (404, "channel_not_found")


def test_queue_pause_checks_queue_and_membership(api, cc):
    assert error(post(api, "queue-pause", {"extension": "1001", "queue": "2000"})) \
        == (400, "not_a_queue_member", ["extension"])
    assert error(post(api, "queue-pause", {"extension": "1002", "queue": "2999"})) \
        == (400, "reference_not_found", ["queue"])
    assert error(post(api, "queue-pause", {"extension": "1002", "reason": "lunch\r\nAction: Hangup"}))[:2] \
        == (400, "validation_error")
    paused = post(api, "queue-pause", {"extension": "1002", "queue": "2000", "reason": "lunch"})
    assert paused.status_code == 202 and paused.json()["parameters"] == {"extension": "1002", "queue": "2000",
                                                                          "reason": "lunch"}
    assert error(post(api, "queue-unpause", {"extension": "1002", "reason": "x"}))[:2] == (400, "validation_error")
    assert post(api, "queue-unpause", {"extension": "1002"}).status_code == 202


def test_hold_and_park_say_the_dialplan_does_not_support_them(api, cc):
    for name in ("hold", "park"):
        assert error(post(api, name, {}))[:2] == (409, "not_supported_by_dialplan")
    catalogue = {a["action"]: a["supported"] for a in api("acme").get(BASE).json()}
    assert catalogue["originate"] and not catalogue["hold"] and not catalogue["park"]


def test_read_only_keys_cannot_control_calls_but_can_read_jobs(api, cc):
    assert error(post(api, "originate", {"extension": "1001", "number": "1002"}, key="acme_ro"))[:2] \
        == (403, "read_only_credential")
    assert api("acme_ro").get(f"{BASE}jobs/").status_code == 200


def test_other_tenants_cannot_see_or_start_jobs(api, world, cc):
    ingest(cc["server"], "sip-call", stop_before="Hangup")
    created = post(api, "originate", {"extension": "1001", "number": "1002"}).json()
    for key in ("globex", "initech", "other_reseller"):
        for method, path, body in [("get", f"{BASE}jobs/", None), ("get", f"{BASE}jobs/{created['id']}/", None),
                                   ("post", f"{BASE}hangup/", {"channel": "PJSIP/1001-acme-00000000"}),
                                   ("post", f"{BASE}originate/", {"extension": "1001", "number": "1002"})]:
            client = api(key)
            response = client.get(path) if body is None else client.post(path, body)
            assert error(response)[:2] == (404, "tenant_not_found"), (key, method, path)
    # globex's own jobs do not include acme's, and acme's job id is not found there.
    assert api("globex").get("/api/call-control/globex/jobs/").json() == []
    assert error(api("globex").get(f"/api/call-control/globex/jobs/{created['id']}/"))[:2] == (404, "not_found")
    assert jobs(world) == 1


# --- the task: exact AMI on the wire, recorded answers ----------------------------------------------

def run(world, cc, peer_or_port, job_id, *, clean: bool = True):
    """Run the job's task in this process against a peer (or a port), as a worker would."""
    peer = None if isinstance(peer_or_port, int) else peer_or_port
    host, port = ("127.0.0.1", peer_or_port) if peer is None else (peer.host, peer.port)
    Server.objects.filter(pk=cc["server"].pk).update(ami_host=host, ami_port=port)
    run_control_job.apply(args=[job_id, world.acme.pk])
    if peer is not None and clean:
        peer.wait_idle()
        assert peer.errors == []
    return job(world, job_id)


def test_originate_rings_the_phone_then_dials_through_the_tenants_context(api, world, cc):
    created = post(api, "originate", {"extension": "1001", "number": "+14155550123", "caller_id": "+14155550199",
                                      "ring_timeout": 25}).json()
    with control_peers.peer() as peer:
        done = run(world, cc, peer, created["id"])
    [login] = control_peers.sent(peer, "Login")
    assert ("Events", "call") in login  # only call events while waiting for the OriginateResponse
    assert control_peers.sent(peer, "Originate") == [[
        ("Action", "Originate"), ("ActionID", f"tl-cc-{created['id']}-1"), ("Channel", "PJSIP/1001-acme"),
        ("Context", "acme-internal"), ("Exten", "+14155550123"), ("Priority", "1"), ("Async", "true"),
        ("CallerID", '"Alice Adams" <1001>'), ("Timeout", "25000"), ("Variable", "TL_OUTCID=+14155550199")]]
    assert done.status == "succeeded" and done.error_code == "" and done.attempts == 1
    assert done.result == {"channel": "PJSIP/1001-acme-00000000", "uniqueid": "1795750869.0", "reason": "4",
                           "reason_text": "answered"}
    assert [m["Message"] if "Message" in m else m["Event"] for m in done.ami_response] == \
        ["Originate successfully queued", "OriginateResponse"]
    assert "portal-secret" not in str(done.ami_response)


@pytest.mark.parametrize("reason,code", [(None, "extension_unavailable"), (b"5", "busy"), (b"3", "no_answer")])
def test_an_originate_the_phone_does_not_take_fails_with_a_stable_code(api, world, cc, reason, code):
    created = post(api, "originate", {"extension": "1001", "number": "1002"}).json()
    with control_peers.peer(originate=control_peers.originate("failed", reason)) as peer:
        done = run(world, cc, peer, created["id"])
    assert (done.status, done.error_code) == ("failed", code)
    assert done.result["uniqueid"] == "" and done.ami_response[-1]["Response"] == "Failure"


def test_channel_actions_send_hangup_redirect_and_atxfer(api, world, cc):
    ingest(cc["server"], "sip-call", stop_before="Hangup")
    hangup = post(api, "hangup", {"channel": "PJSIP/1002-acme-00000001"}).json()
    blind = post(api, "blind-transfer", {"channel": "PJSIP/1001-acme-00000000", "destination": "4155550123"}).json()
    attended = post(api, "attended-transfer", {"channel": "PJSIP/1002-acme-00000001", "destination": "1001"}).json()
    with control_peers.peer() as peer:
        results = [run(world, cc, peer, j["id"]) for j in (hangup, blind, attended)]
    assert [r.status for r in results] == ["succeeded"] * 3
    assert results[0].result == {"message": "Channel Hungup"}
    assert control_peers.sent(peer, "Hangup") == [[("Action", "Hangup"), ("ActionID", f"tl-cc-{hangup['id']}-1"),
                                                   ("Channel", "PJSIP/1002-acme-00000001")]]
    assert control_peers.sent(peer, "Redirect") == [[
        ("Action", "Redirect"), ("ActionID", f"tl-cc-{blind['id']}-1"), ("Channel", "PJSIP/1001-acme-00000000"),
        ("Context", "acme-internal"), ("Exten", "4155550123"), ("Priority", "1")]]
    assert control_peers.sent(peer, "Atxfer") == [[
        ("Action", "Atxfer"), ("ActionID", f"tl-cc-{attended['id']}-1"), ("Channel", "PJSIP/1002-acme-00000001"),
        ("Exten", "1001"), ("Context", "acme-internal")]]
    logins = control_peers.sent(peer, "Login")
    assert len(logins) == 3 and all(("Events", "off") in login for login in logins)


@pytest.mark.parametrize("action,message,code", [
    ("hangup", "No such channel", "channel_not_found"),
    ("redirect", "Channel does not exist: PJSIP/1001-acme-00000000", "channel_not_found"),
    ("atxfer", "No attended transfer feature code found", "not_supported_by_dialplan"),
    ("hangup", "Permission denied", "pbx_error"),
])
def test_a_refusal_by_the_pbx_fails_the_job_with_a_stable_code(api, world, cc, action, message, code):
    ingest(cc["server"], "sip-call", stop_before="Hangup")
    path = {"hangup": "hangup", "redirect": "blind-transfer", "atxfer": "attended-transfer"}[action]
    created = post(api, path, {"channel": "PJSIP/1001-acme-00000000", "destination": "1002"}
                   if action != "hangup" else {"channel": "PJSIP/1001-acme-00000000"}).json()
    with control_peers.peer(**{action: control_peers.answer("Error", message)}) as peer:
        done = run(world, cc, peer, created["id"])
    assert (done.status, done.error_code) == ("failed", code)
    assert message in done.error_message and done.ami_response == [
        {"Response": "Error", "ActionID": f"tl-cc-{created['id']}-1", "Message": message}]


def test_queue_pause_sends_the_recorded_queue_pause(api, world, cc):
    paused = post(api, "queue-pause", {"extension": "1002", "queue": "2000", "reason": "lunch"}).json()
    everywhere = post(api, "queue-unpause", {"extension": "1002"}).json()
    with control_peers.peer() as peer:
        results = [run(world, cc, peer, j["id"]) for j in (paused, everywhere)]
    assert [r.status for r in results] == ["succeeded", "succeeded"]
    # The recorded QueuePause (queue.jsonl, qpause-1) with our names: queue acme-2000, PJSIP/1002-acme.
    assert control_peers.sent(peer, "QueuePause") == [
        [("Action", "QueuePause"), ("ActionID", f"tl-cc-{paused['id']}-1"), ("Queue", "acme-2000"),
         ("Interface", "PJSIP/1002-acme"), ("Paused", "true"), ("Reason", "lunch")],
        [("Action", "QueuePause"), ("ActionID", f"tl-cc-{everywhere['id']}-1"), ("Interface", "PJSIP/1002-acme"),
         ("Paused", "false")]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@override_settings(CALL_CONTROL_MAX_RETRIES=2, CALL_CONTROL_RETRY_BASE=0.01)
def test_an_unreachable_server_is_retried_then_the_job_fails_pbx_unreachable(api, world, cc):
    created = post(api, "queue-unpause", {"extension": "1002"}).json()
    done = run(world, cc, _closed_port(), created["id"])
    assert (done.status, done.error_code, done.attempts) == ("failed", "pbx_unreachable", 3)
    assert "Gave up after 3 attempts" in done.error_message


@override_settings(CALL_CONTROL_MAX_RETRIES=2, CALL_CONTROL_RETRY_BASE=0.01)
def test_a_server_that_comes_back_gets_the_action_once(api, world, cc):
    created = post(api, "queue-unpause", {"extension": "1002"}).json()
    server = control_peers.ScriptedAmiServer(control_peers.AmiScript(refuse=True),
                                             control_peers.AmiScript(login_events=[],
                                                                     handlers=control_peers.HANDLERS))
    with server:
        done = run(world, cc, server, created["id"])
    assert (done.status, done.attempts) == ("succeeded", 2)
    assert len(control_peers.sent(server, "QueuePause")) == 1
    assert control_peers.sent(server, "QueuePause")[0][1] == ("ActionID", f"tl-cc-{created['id']}-2")


def test_a_connection_lost_after_sending_is_not_retried(api, world, cc):
    created = post(api, "queue-unpause", {"extension": "1002"}).json()

    def vanish(request: bytes) -> bytes:
        raise ConnectionResetError  # the peer drops the session without answering

    with control_peers.peer(queuepause=vanish) as peer:
        done = run(world, cc, peer, created["id"], clean=False)
    assert (done.status, done.error_code, done.attempts) == ("failed", "pbx_unreachable", 1)
    assert "not retried" in done.error_message
    assert len(control_peers.sent(peer, "QueuePause")) == 1


def test_a_job_is_run_once_even_if_its_message_comes_twice(api, world, cc):
    created = post(api, "queue-unpause", {"extension": "1002"}).json()
    with control_peers.peer() as peer:
        run(world, cc, peer, created["id"])
        again = run(world, cc, peer, created["id"])
    assert again.status == "succeeded" and again.attempts == 1
    assert len(control_peers.sent(peer, "QueuePause")) == 1


def test_jobs_left_waiting_expire_instead_of_running_late(api, world, cc):
    from datetime import timedelta

    from django.utils import timezone

    from apps.calls.tasks import expire_control_jobs

    stale = post(api, "queue-unpause", {"extension": "1002"}).json()
    fresh = post(api, "queue-unpause", {"extension": "1002"}).json()
    with tenant_context(world.acme):
        CallControlJob.objects.filter(pk=stale["id"]).update(created_at=timezone.now() - timedelta(minutes=5))
    assert expire_control_jobs.apply().get() == 1
    assert (job(world, stale["id"]).status, job(world, stale["id"]).error_code) == ("failed", "expired")
    assert job(world, fresh["id"]).status == "queued"
    with control_peers.peer() as peer:  # a late message for the expired job sends nothing
        assert run(world, cc, peer, stale["id"]).status == "failed"
    assert control_peers.sent(peer, "QueuePause") == []
