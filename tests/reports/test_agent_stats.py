"""Agent statistics from known queue calls and state changes; every figure is worked out by hand
in the comments."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from apps.reports.datasets import agent_stats_rows
from apps.reports.models import AgentStateChange
from tests.reports.conftest import at, queue_call

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def calls(world, acme_agents):
    ann, bob = acme_agents["ann"], acme_agents["bob"]
    with tenant_context(world.acme):
        AgentStateChange.objects.all().delete()  # the fixture's own changes: the test sets the history
        # Queue 2000 (wrap-up 10 s). C1: Ann answers after 8 s, talks 120 s of which 20 on hold; Bob rang too.
        queue_call("c1", queue="2000", joined=at("2025-03-03 09:00:00"), rung=[("1001", 2, 8), ("1002", 2, None)],
                   agent="1001", answered_after=8, talk=120, hold=20)
        # C2: Ann rang without answering; Bob answered after 30 s (outside a 20 s service level), 60 s.
        queue_call("c2", queue="2000", joined=at("2025-03-03 10:00:00"), rung=[("1001", 1, None), ("1002", 16, 30)],
                   agent="1002", answered_after=30, talk=60)
        # C3: Ann rang, the caller hung up (abandoned).
        queue_call("c3", queue="2000", joined=at("2025-03-03 11:00:00"), rung=[("1001", 1, None)])
        # Queue 2001 (no wrap-up), the next day: Bob answers after 5 s, 200 s of which 30 on hold.
        queue_call("c4", queue="2001", joined=at("2025-03-04 09:00:00"), rung=[("1002", 1, 5)], agent="1002",
                   answered_after=5, talk=200, hold=30)
        # Outside the range.
        queue_call("c5", queue="2000", joined=at("2025-03-06 09:00:00"), rung=[("1001", 1, 3)], agent="1001",
                   answered_after=3, talk=10)
        for when, state, reason in (("2025-03-02 22:00:00", "logged_in", ""), ("2025-03-03 12:00:00", "paused", "lunch"),
                                    ("2025-03-03 12:30:00", "logged_in", ""), ("2025-03-03 23:00:00", "paused", ""),
                                    ("2025-03-04 01:00:00", "logged_out", "")):
            AgentStateChange.objects.create(agent_id=ann.pk, extension="1001", state=state, pause_reason=reason,
                                            at=at(when))
    return {"ann": ann, "bob": bob}


def pick(rows, *keys):
    return [tuple(row[k] for k in keys) for row in rows]


def test_per_agent_per_day_in_utc(world, calls):
    ann, bob = calls["ann"], calls["bob"]
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-05T00:00:00Z", interval="day",
                            tz="UTC")
    keys = ("interval_start", "extension", "agent_id", "agent_name", "offered", "answered", "missed",
            "answered_within_sl", "service_level", "talk_seconds", "hold_seconds", "wrapup_seconds",
            "average_handle_seconds", "logged_in_seconds", "pause_seconds", "pause_by_reason")
    d3, d4 = at("2025-03-03 00:00:00"), at("2025-03-04 00:00:00")
    assert pick(rows, *keys) == [
        # Ann: 3 offers, C1 answered within 8 s; talk 120 - 20 hold; wrap-up 10; logged in all day with
        # 30 min lunch and the last hour paused without a reason.
        (d3, "1001", ann.pk, "Ann", 3, 1, 2, 1, 1.0, 100, 20, 10, 130.0, 86400, 5400, {"": 3600, "lunch": 1800}),
        (d3, "1002", bob.pk, "Bob", 2, 1, 1, 0, 0.0, 60, 0, 10, 70.0, 0, 0, {}),
        # Ann on the 4th: only the pause until 01:00, then logged out; no calls.
        (d4, "1001", ann.pk, "Ann", 0, 0, 0, 0, None, 0, 0, 0, None, 3600, 3600, {"": 3600}),
        (d4, "1002", bob.pk, "Bob", 1, 1, 0, 1, 1.0, 170, 30, 0, 200.0, 0, 0, {}),
    ]
    assert all(row["level"] == "agent" and row["queue"] is None for row in rows)
    assert rows[0]["interval_end"] == d4


def test_days_are_local_days_in_the_zone_asked_for(world, calls):
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00", end="2025-03-05T00:00:00", interval="day",
                            tz="Europe/Berlin")
    d3 = dt.datetime(2025, 3, 3, tzinfo=BERLIN)
    assert rows[0]["interval_start"] == d3 and rows[0]["interval_start"].utcoffset() == dt.timedelta(hours=1)
    # Berlin's 3 March is 23:00Z on the 2nd to 23:00Z on the 3rd: Ann's 23:00Z pause falls on the 4th.
    assert pick(rows, "extension", "offered", "logged_in_seconds", "pause_by_reason") == [
        ("1001", 3, 86400, {"lunch": 1800}), ("1002", 2, 0, {}),
        ("1001", 0, 7200, {"": 7200}), ("1002", 1, 0, {})]


def test_the_tenants_time_zone_is_the_default(world, calls):
    world.acme.timezone = "Europe/Berlin"
    world.acme.save()
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00", end="2025-03-04T00:00:00", interval="day")
    assert rows[0]["interval_start"] == dt.datetime(2025, 3, 3, tzinfo=BERLIN)
    assert rows[0]["logged_in_seconds"] == 86400 and rows[0]["pause_by_reason"] == {"lunch": 1800}


def test_per_queue_breakdown_and_queue_totals(world, calls):
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-04T00:00:00Z", interval="day",
                            tz="UTC", by_queue=True, service_level_seconds=30)
    assert pick(rows, "level", "extension", "queue", "offered", "answered", "answered_within_sl", "service_level",
                "talk_seconds", "wrapup_seconds", "logged_in_seconds") == [
        ("agent", "1001", None, 3, 1, 1, 1.0, 100, 10, 86400),
        ("agent", "1002", None, 2, 1, 1, 1.0, 60, 10, 0),  # 30 s is within a 30 s service level
        ("agent_queue", "1001", "2000", 3, 1, 1, 1.0, 100, 10, None),
        ("agent_queue", "1002", "2000", 2, 1, 1, 1.0, 60, 10, None),
        # The queue: 3 calls joined, 2 answered (both within 30 s), C3 abandoned: 2/3.
        ("queue", None, "2000", 3, 2, 2, 0.6667, 160, 20, None),
    ]


def test_queue_filter_and_hourly_buckets(world, calls):
    rows = agent_stats_rows(world.acme, start="2025-03-03T09:00:00Z", end="2025-03-03T12:00:00Z", interval="hour",
                            tz="UTC", queue="2000")
    # With a queue, agents appear where they had calls of it; logged-in time stays the agent's own.
    assert pick(rows, "interval_start", "extension", "offered", "answered", "logged_in_seconds") == [
        (at("2025-03-03 09:00:00"), "1001", 1, 1, 3600), (at("2025-03-03 09:00:00"), "1002", 1, 0, 0),
        (at("2025-03-03 10:00:00"), "1001", 1, 0, 3600), (at("2025-03-03 10:00:00"), "1002", 1, 1, 0),
        (at("2025-03-03 11:00:00"), "1001", 1, 0, 3600)]
    assert agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-04T00:00:00Z", tz="UTC",
                            queue="2001") == []


def test_logged_in_time_follows_local_days_across_dst(world, acme_agents):
    ann = acme_agents["ann"]
    with tenant_context(world.acme):
        AgentStateChange.objects.all().delete()
        AgentStateChange.objects.create(agent_id=ann.pk, extension="1001", state="logged_in",
                                        at=at("2025-03-28 00:00:00"))
        AgentStateChange.objects.create(agent_id=ann.pk, extension="1001", state="logged_out",
                                        at=at("2025-04-02 00:00:00"))
    rows = agent_stats_rows(world.acme, start="2025-03-29T00:00:00", end="2025-04-01T00:00:00", interval="day",
                            tz="Europe/Berlin")
    # Clocks go forward on 30 March in Berlin: that day has 23 hours.
    assert pick(rows, "interval_start", "logged_in_seconds") == [
        (dt.datetime(2025, 3, 29, tzinfo=BERLIN), 86400), (dt.datetime(2025, 3, 30, tzinfo=BERLIN), 82800),
        (dt.datetime(2025, 3, 31, tzinfo=BERLIN), 86400)]


def test_weeks_start_on_monday_in_the_zone(world, calls):
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-10T00:00:00Z", interval="week",
                            tz="UTC")
    assert pick(rows, "interval_start", "extension", "offered", "answered", "talk_seconds") == [
        (at("2025-03-03 00:00:00"), "1001", 4, 2, 110), (at("2025-03-03 00:00:00"), "1002", 3, 2, 230)]


def statements(fn):
    """The statements ``fn`` runs, without django-tenants' ``SET search_path`` (the connection's,
    issued once after a schema switch; the statistics name their tables with the schema) and the
    savepoint ``run_over_schemas`` puts around its statement inside a transaction (the test's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        result = fn()
    return [q["sql"] for q in context.captured_queries 
            if not q["sql"].startswith(("SET search_path", "SAVEPOINT", "RELEASE SAVEPOINT"))], result


def test_one_statement_whatever_the_number_of_agents(world, calls, system_actor):
    from apps.telephony import services as tel

    def run():
        return agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-07T00:00:00Z", tz="UTC",
                                by_queue=True)

    queries, few = statements(run)
    assert len(queries) == 1
    with tenant_context(world.acme):
        for n in range(20):
            ext = tel.extension_create(actor=system_actor, tenant=world.acme, number=str(1100 + n), name=f"E{n}")
            agent = tel.agent_create(actor=system_actor, tenant=world.acme, name=f"A{n}", extension=ext,
                                     login_code=str(100 + n), state="logged_in")
            queue_call(f"x{n}", queue="2000", joined=at("2025-03-05 09:00:00"), rung=[(ext.number, 1, 2)],
                       agent=ext.number, answered_after=2, talk=10)
            AgentStateChange.objects.filter(agent_id=agent.pk).update(at=at("2025-03-05 08:00:00"))
    queries, many = statements(run)
    # Each new agent: an agent row and an agent-queue row on the 5th, an agent row on the 6th (still
    # logged in); and queue 2000 gets a total row on the 5th.
    assert len(queries) == 1 and len(many) == len(few) + 20 * 3 + 1
