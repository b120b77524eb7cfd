"""The recorded Asterisk 22 sessions, fed through one server's ingestor, make exactly the call
records, legs, agent state and events a real call makes; replays change nothing."""
from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.calls.ingest import Ingestor
from apps.calls.models import Call
from apps.events.models import OutboxEvent
from apps.reports.models import QueueCall
from tests.calls.conftest import recorded_events

pytestmark = pytest.mark.django_db


def ingest(server, *names, replace=None) -> Ingestor:
    ingestor = Ingestor(server)
    for name in names:
        for message in recorded_events(name, replace=replace):
            ingestor.feed(message)
    assert ingestor.flush()
    return ingestor


def events(prefix="communications."):
    return list(OutboxEvent.objects.filter(type__startswith=prefix).order_by("id").values_list("type", flat=True))


def test_sip_call_makes_one_answered_internal_call_with_two_legs(pbx, world):
    ingest(pbx["server"], "sip-call")
    with tenant_context(world.acme):
        [call] = Call.objects.all()
        legs = list(call.legs.order_by("started_at", "id"))
    assert call.linkedid == "1795750932.48" and call.direction == "internal"
    assert (call.caller_number, call.caller_name, call.callee_number) == ("1001", "Acme 1001", "1002")
    assert call.callee_name == "Acme 1002"
    assert call.status == "ended" and call.disposition == "answered"
    assert call.extensions == ["1001", "1002"] and call.hangup_cause == 16
    assert call.answered_at is not None and call.ended_at >= call.answered_at >= call.started_at
    assert call.billsec is not None and call.duration >= call.billsec
    assert [leg.channel for leg in legs] == ["PJSIP/1001-acme-00000000", "PJSIP/1002-acme-00000001"]
    assert all(leg.ended_at and leg.hangup_cause == 16 for leg in legs)
    assert events("communications.call.") == ["communications.call.ringing", "communications.call.answered",
                                              "communications.call.ended"]
    ended = OutboxEvent.objects.get(type="communications.call.ended")
    assert ended.tenant_id == world.acme.pk
    assert ended.data["extension"]["phone_username"] == "1001-acme"
    assert ended.data["extension"]["primary_server"] == "pbx1" and ended.data["extension"]["location"] is None
    assert ended.data["disposition"] == "answered" and ended.data["id"] == call.pk


def test_replaying_a_transcript_twice_changes_nothing(pbx, world):
    ingest(pbx["server"], "sip-call", "queue-call")
    with tenant_context(world.acme):
        before = list(Call.objects.order_by("id").values())
    count = OutboxEvent.objects.count()
    ingest(pbx["server"], "sip-call", "queue-call")  # a new listener replays everything
    ingestor = Ingestor(pbx["server"])  # and one that sees every event twice
    for message in recorded_events("sip-call"):
        ingestor.feed(message)
        ingestor.feed(message)
    assert ingestor.flush()
    with tenant_context(world.acme):
        assert list(Call.objects.order_by("id").values()) == before
    assert OutboxEvent.objects.count() == count


def test_queue_call_records_queue_agent_and_the_agent_follows_the_pbx(pbx, world):
    ingest(pbx["server"], "queue-call")
    with tenant_context(world.acme):
        [call] = Call.objects.all()
        agent = type(pbx["agent"]).objects.get(pk=pbx["agent"].pk)
    assert call.queue == "sales" and call.agent == "1002" and call.disposition == "answered"
    assert call.queue_joined_at and call.queue_left_at and call.callee_number == "2000"
    with tenant_context(world.acme):
        # What agent statistics read of the ended call, written with it; a replay adds nothing.
        [summary] = QueueCall.objects.all()
        ingest(pbx["server"], "queue-call")
        assert QueueCall.objects.count() == 1
    assert (summary.call_id, summary.queue, summary.agent, summary.members) == (call.pk, "sales", "1002", ["1002"])
    assert summary.talk > 0 and 0 <= summary.wait <= (call.queue_left_at - call.queue_joined_at).total_seconds()
    assert "communications.queue.caller_joined" in events()
    assert "communications.queue.caller_abandoned" not in events()
    # 1002 is a member on the PBX (not paused): the portal's agent is logged in, once.
    assert agent.state == "logged_in"
    assert events().count("communications.agent.state_changed") == 1
    # through the telephony service, like a change made in the API
    assert OutboxEvent.objects.filter(type="config.agent.updated").count() == 1


def test_event_storm_makes_twenty_calls(pbx, world):
    ingest(pbx["server"], "event-storm")
    with tenant_context(world.acme):
        calls = [(c.status, c.legs.count()) for c in Call.objects.all()]
    assert calls == [("ended", 2)] * 20
    assert events().count("communications.call.ended") == 20


def test_two_tenants_on_one_server_land_in_their_own_schemas(pbx, world):
    ingest(pbx["server"], "sip-call")
    ingest(pbx["server"], "sip-call", replace={b"-acme": b"-globex", b"acme-": b"globex-",
                                               b"1795750932.4": b"1795759999.4"})
    with tenant_context(world.acme):
        assert Call.objects.count() == 1
    with tenant_context(world.globex):
        [call] = Call.objects.all()
    assert call.extensions == ["1001", "1002"] and call.linkedid.startswith("1795759999.")
    assert OutboxEvent.objects.filter(type="communications.call.ended", tenant_id=world.globex.pk).count() == 1


def test_events_of_a_tenant_this_server_does_not_host_are_counted_and_dropped(pbx, world):
    ingestor = ingest(pbx["server"], "sip-call", replace={b"-acme": b"-initech", b"acme-": b"initech-"})
    assert ingestor.tracker.unmapped > 0
    for tenant in (world.acme, world.globex, world.initech):
        with tenant_context(tenant):
            assert not Call.objects.exists()
    assert events() == []


def test_truncated_and_out_of_order_events_do_not_crash_or_duplicate(pbx, world):
    messages = recorded_events("sip-call")
    hangups = [m for m in messages if m.name == "Hangup"]
    ingestor = Ingestor(pbx["server"])
    for message in hangups:  # the end of a call nobody saw start: nothing to build on
        ingestor.feed(message)
    for message in messages:
        ingestor.feed(message)
    assert ingestor.flush()
    with tenant_context(world.acme):
        assert Call.objects.count() == 1 and Call.objects.get().status == "ended"


def test_screen_pop_contact_and_crm_call_log(pbx, world, system_actor):
    from apps.crm.models import Activity
    from apps.crm.services import contact_create

    with tenant_context(world.acme):
        contact = contact_create(actor=system_actor, tenant=world.acme, first_name="Ann", last_name="Caller",
                                 phone="+14155550123")
    # The recorded call, as if it came in from a trunk with the contact's number.
    ingest(pbx["server"], "sip-call", replace={b"PJSIP/1001-acme": b"PJSIP/acme-trunk-1",
                                               b"CallerIDNum: 1001": b"CallerIDNum: +14155550123"})
    with tenant_context(world.acme):
        call = Call.objects.get()
        activity = Activity.objects.get(contact=contact)
    assert call.direction == "inbound" and call.contact_id == contact.pk and call.trunk == "acme-trunk-1"
    ringing = OutboxEvent.objects.get(type="communications.call.ringing")
    assert ringing.data["contact"] == {"id": contact.pk, "name": "Ann Caller", "account": None}
    assert activity.kind == "call" and activity.duration_seconds == call.duration
    assert "Inbound call" in activity.subject
    assert OutboxEvent.objects.filter(type="crm.activity.created", data__id=activity.pk).count() == 1


@pytest.mark.parametrize("setting,logged", [({}, True), ({"crm_call_logging": False}, False),
                                            ({"crm_call_log_directions": ["outbound"]}, False)])
def test_crm_call_log_follows_the_tenants_settings(api, pbx, world, system_actor, setting, logged):
    from apps.crm.models import Activity
    from apps.crm.services import contact_create
    from apps.tenants.models import Tenant

    if setting:  # the tenant's own key may choose this (it is not a limit the reseller sells)
        assert api("acme").patch("/api/tenants/acme/", setting).status_code == 200
    with tenant_context(world.acme):
        contact_create(actor=system_actor, tenant=world.acme, first_name="Ann", phone="+14155550123")
    server = pbx["server"]
    server.refresh_from_db()
    ingest(server, "sip-call", replace={b"PJSIP/1001-acme": b"PJSIP/acme-trunk-1",
                                        b"CallerIDNum: 1001": b"CallerIDNum: +14155550123"})
    assert Tenant.objects.get(pk=world.acme.pk).crm_call_logging is (setting.get("crm_call_logging", True))
    with tenant_context(world.acme):
        assert Activity.objects.filter(kind="call").exists() is logged


def test_call_events_reach_tenant_webhooks_and_system_webhooks_that_name_them(pbx, world):
    from django.db import transaction

    from apps.webhooks import services as hooks
    from apps.webhooks.models import Delivery
    from apps.webhooks.relay import relay_pending

    actor = pbx["server"]  # any object with a label works as an actor for these services
    from apps.accounts.principal import Principal

    actor = Principal.system("tests")
    tenant_hook = hooks.subscription_create(actor=actor, tenant=world.acme, url="https://crm.example.com/hook",
                                            event_types=["communications.call.*"])
    named = hooks.subscription_create(actor=actor, kind="system", url="https://ops.example.com/calls",
                                      event_types=["communications.*"])
    everything = hooks.subscription_create(actor=actor, kind="system", url="https://ops.example.com/all")
    other_reseller = hooks.subscription_create(actor=actor, kind="system", url="https://two.example.com/",
                                               reseller=world.other_reseller, event_types=["communications.*"])
    with transaction.atomic():
        ingest(pbx["server"], "sip-call")
    relay_pending()
    got = lambda hook: sorted(Delivery.objects.filter(subscription=hook).values_list("event_type", flat=True))  # noqa: E731
    calls = ["communications.call.answered", "communications.call.ended", "communications.call.ringing"]
    assert got(tenant_hook) == calls
    assert [t for t in got(named) if t.startswith("communications.call.")] == calls
    assert got(everything) == [] and got(other_reseller) == []
