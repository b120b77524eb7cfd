"""Agent state history: every real change made through the agent state service is logged, in its
transaction, with where it came from; and hold time is recorded on call legs from Hold/Unhold."""
from __future__ import annotations

import datetime as dt

from django_tenants.utils import tenant_context

from apps.reports.models import AgentStateChange
from tests.reports.conftest import at, s


def log(tenant):
    with tenant_context(tenant):
        return [(c.agent_id, c.extension, c.state, c.pause_reason, c.source)
                for c in AgentStateChange.objects.order_by("at", "id")]


def test_state_changes_are_logged_once_each_with_their_source(world, system_actor, acme_agents):
    from apps.accounts.principal import Principal
    from apps.telephony.services import agent_set_state, agent_update

    ann = acme_agents["ann"]
    with tenant_context(world.acme):
        agent_set_state(actor=system_actor, tenant=world.acme, instance=ann, state="logged_in")
        agent_set_state(actor=system_actor, tenant=world.acme, instance=ann, state="logged_in")  # no change
        agent_set_state(actor=Principal.system("pbx"), tenant=world.acme, instance=ann, state="paused",
                        pause_reason="lunch")
        agent_set_state(actor=Principal.system("pbx"), tenant=world.acme, instance=ann, state="paused",
                        pause_reason="break")  # another reason is a change
        agent_update(actor=system_actor, tenant=world.acme, instance=ann, name="Ann A.")  # not a state change
    assert log(world.acme) == [
        (ann.pk, "1001", "logged_in", "", "system"),
        (ann.pk, "1001", "paused", "lunch", "pbx"),
        (ann.pk, "1001", "paused", "break", "pbx"),
    ]


def test_an_agent_created_logged_in_is_logged_and_one_created_logged_out_is_not(world, system_actor, acme_agents):
    from apps.telephony.services import agent_create

    with tenant_context(world.acme):
        carl = agent_create(actor=system_actor, tenant=world.acme, name="Carl", login_code="13",
                            extension=acme_agents["exts"]["1003"], state="logged_in")
    assert log(world.acme) == [(carl.pk, "1003", "logged_in", "", "system")]


def test_the_api_change_is_logged_as_api(api, world, system_actor, acme_agents):
    from apps.telephony.services import agent_set_state

    ann = acme_agents["ann"]
    with tenant_context(world.acme):
        agent_set_state(actor=system_actor, tenant=world.acme, instance=ann, state="logged_in")
    client = api("acme")
    assert client.post(f"/api/contact-center/acme/agents/{ann.pk}/pause/", {"reason": "training"}).status_code == 202
    assert client.post(f"/api/contact-center/acme/agents/{ann.pk}/unpause/", {}).status_code == 202
    assert log(world.acme)[1:] == [(ann.pk, "1001", "paused", "training", "api"),
                                   (ann.pk, "1001", "logged_in", "", "api")]


def test_a_failed_change_leaves_no_history(world, system_actor, acme_agents):
    from apps.telephony.services import agent_update
    from thirdlane.api.errors import DomainError

    with tenant_context(world.acme):
        try:
            agent_update(actor=system_actor, tenant=world.acme, instance=acme_agents["ann"], state="logged_in",
                         login_code="12")  # Bob's code: refused after the state was applied
        except DomainError:
            pass
    assert log(world.acme) == []


def test_hold_and_unhold_add_up_on_the_leg_and_a_hangup_on_hold_closes_the_hold():
    from apps.calls.mapping import TenantMap
    from apps.calls.tracker import CallTracker

    class Tenant:
        slug = "acme"

    tracker = CallTracker(1, TenantMap({"acme": Tenant()}))
    t0 = at("2025-03-03 09:00:00")
    base = {"linkedid": "100.1", "uniqueid": "100.1", "channel": "PJSIP/1001-acme-00000001", "channel_state": 6}
    for name, offset in (("Newchannel", 0), ("Hold", 10), ("Unhold", 25), ("Hold", 40), ("Hangup", 47)):
        tracker.feed({"event": name, **base}, s(t0, offset))
    [call] = [c for c in tracker.take_changes()[0]]
    leg = call.legs["100.1"]
    assert leg.hold_seconds == 15 + 7 and leg.held_since is None and leg.ended_at == s(t0, 47)


def test_hold_time_is_stored_on_the_leg_and_a_rebuilt_tracker_does_not_wipe_it(world, system_actor):
    from apps.calls import store
    from apps.calls.mapping import TenantMap
    from apps.calls.models import CallLeg
    from apps.calls.tracker import CallTracker
    from tests.calls.conftest import setup_pbx

    server = setup_pbx(world, system_actor)["server"]
    tenants = {"acme": world.acme}
    t0 = at("2025-03-03 09:00:00")
    base = {"linkedid": "200.1", "uniqueid": "200.1", "channel": "PJSIP/1001-acme-00000001", "channel_state": 6}

    def run(tracker, steps):
        for name, offset in steps:
            tracker.feed({"event": name, **base}, s(t0, offset))
        calls, moments, members = tracker.take_changes()
        store.persist(server=server, tenants=tenants, calls=calls, moments=moments, members=members)

    run(CallTracker(server.pk, TenantMap(tenants)), [("Newchannel", 0), ("Hold", 10), ("Unhold", 25)])
    # A listener restart: the new tracker knows the channel but not the earlier hold. The store
    # keeps the larger of the two counts (it cannot add them: it does not know whether the new
    # tracker's count already includes the old), so 15 s are kept, not 0.
    run(CallTracker(server.pk, TenantMap(tenants)), [("CoreShowChannel", 30), ("Hold", 40), ("Hangup", 47)])
    with tenant_context(world.acme):
        leg = CallLeg.objects.get(uniqueid="200.1")
    assert (leg.hold_seconds, leg.held_since) == (15, None)
