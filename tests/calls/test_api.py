"""/api/calls/<tenant>/ (records, active, live queues) and the platform roll-up /api/calls/."""
from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.calls.ingest import Ingestor
from tests.calls.conftest import recorded_events
from tests.helpers.isolation import check_tenant_isolation

pytestmark = pytest.mark.django_db


def ingest(server, name, *, replace=None, stop_before: str | None = None):
    ingestor = Ingestor(server)
    for message in recorded_events(name, replace=replace):
        if stop_before and message.name == stop_before:
            break
        ingestor.feed(message)
    assert ingestor.flush()


GLOBEX = {b"-acme": b"-globex", b"acme-": b"globex-", b"1795750932.4": b"1795759999.4"}


def test_list_filters_and_detail_with_legs(api, pbx, world):
    ingest(pbx["server"], "sip-call")
    ingest(pbx["server"], "queue-call")
    calls = api("acme").get("/api/calls/acme/")
    assert calls.status_code == 200 and calls["X-Total-Count"] == "2"
    assert [c["callee_number"] for c in calls.json()] == ["2000", "1002"]  # newest first
    queued = api("acme").get("/api/calls/acme/?queue=sales").json()
    assert [c["agent"] for c in queued] == ["1002"]
    assert len(api("acme").get("/api/calls/acme/?extension=1002&disposition=answered").json()) == 2
    assert api("acme").get("/api/calls/acme/?direction=inbound").json() == []
    assert len(api("acme").get("/api/calls/acme/?search=1001").json()) == 2
    detail = api("acme").get(f"/api/calls/acme/{calls.json()[1]['id']}/").json()
    assert detail["call_id"] == "1795750932.48" and len(detail["legs"]) == 2
    assert {leg["extension"] for leg in detail["legs"]} == {"1001", "1002"}
    bad = api("acme").get("/api/calls/acme/?started_after=yesterday")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"
    assert api("acme").get("/api/calls/acme/?colour=red").json()["code"] == "unknown_filter"


def test_calls_pass_the_cross_tenant_checks(api, pbx, world):
    ingest(pbx["server"], "sip-call")
    with tenant_context(world.acme):
        from apps.calls.models import Call

        call_id = Call.objects.get().pk
    check_tenant_isolation(api, resource="calls", tenant=world.acme, obj_id=call_id)


def test_list_makes_the_same_queries_for_one_call_and_for_twenty(api, pbx, world, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ingest(pbx["server"], "sip-call")
    client = api("acme")
    client.get("/api/calls/acme/")  # warm the credential's caches
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/calls/acme/").json()) == 1
    ingest(pbx["server"], "event-storm")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/calls/acme/").json()) == 21
    assert len(many.captured_queries) == len(one.captured_queries)


def test_active_calls_show_their_channels(api, pbx, world):
    ingest(pbx["server"], "sip-call", stop_before="Hangup")
    active = api("acme").get("/api/calls/acme/active/")
    assert active.status_code == 200 and active["X-Total-Count"] == "1"
    [call] = active.json()
    assert call["status"] == "answered" and len(call["legs"]) == 2
    assert all(leg["ended_at"] is None for leg in call["legs"])
    ingest(pbx["server"], "sip-call")
    assert api("acme").get("/api/calls/acme/active/").json() == []


def test_live_queue_shows_the_waiting_caller_and_member_state(api, pbx, world, system_actor):
    from apps.telephony import services as tel

    with tenant_context(world.acme):
        tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Sales",
                         members=[{"extension": pbx["e2"].pk, "penalty": 0}])
    # The recorded queue is acme-sales; the portal names it acme-2000.
    ingest(pbx["server"], "queue-call", replace={b"acme-sales": b"acme-2000"}, stop_before="QueueCallerLeave")
    [queue] = api("acme").get("/api/calls/acme/queues/").json()
    assert queue["number"] == "2000" and len(queue["waiting"]) == 1
    assert queue["waiting"][0]["caller_number"] == "1001" and queue["waiting"][0]["waiting_seconds"] >= 0
    [member] = queue["members"]
    assert member["extension"] == "1002" and member["interface"] == "PJSIP/1002-acme"
    assert member["status"] in ("not_in_use", "in_use", "ringing") and member["paused"] is False
    assert member["agent"]["state"] == "logged_in"


def test_platform_rollup_spans_the_callers_tenants(api, pbx, world):
    ingest(pbx["server"], "sip-call")
    ingest(pbx["server"], "sip-call", replace=GLOBEX)
    reseller = api("reseller").get("/api/calls/")
    assert reseller.status_code == 200 and reseller["X-Total-Count"] == "2"
    assert sorted(c["tenant"] for c in reseller.json()) == ["acme", "globex"]
    assert api("other_reseller").get("/api/calls/").json() == []
    assert [c["tenant"] for c in api("system").get("/api/calls/?tenant=globex").json()] == ["globex"]
    assert api("acme").get("/api/calls/").json()[0]["tenant"] == "acme"
    assert api("system").get("/api/calls/?direction=sideways").json()["code"] == "invalid_filter"
    assert api("system").get("/api/calls/?limit=1")["X-Total-Count"] == "2"


def test_admin_call_records_live_page_and_listener_health(client, pbx, world):
    from apps.calls import live

    ingest(pbx["server"], "sip-call")
    ingest(pbx["server"], "queue-call", stop_before="QueueCallerLeave")
    client.force_login(world.users["reseller"])
    listing = client.get("/t/acme/admin/calls/call/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Acme 1001" in html and "Live calls and queues" in html
    assert client.get("/t/acme/admin/calls/call/?direction=internal&q=1002").status_code == 200
    live_page = client.get("/t/acme/admin/calls/call/live/")
    assert live_page.status_code == 200 and "Calls in progress: 1" in live_page.content.decode()
    assert client.get("/t/acme/admin/calls/call/add/").status_code == 403
    live.report_listener(pbx["server"].pk, connected=True, last_event_at=None, events_per_second=12.5,
                         calls_in_progress=1, unmapped=0, flush_errors=0)
    client.force_login(world.users["admin"])
    dashboard = client.get("/admin/").content.decode()
    assert "PBX listeners" in dashboard and "connected" in dashboard and "12.5" in dashboard
