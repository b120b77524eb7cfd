"""Call counters from known call records; the platform roll-up over several tenants' schemas."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from apps.reports.datasets import call_counter_rows, platform_call_counter_rows
from tests.reports.conftest import at, plain_call

T1, T2, DID = "acme-trunk-1", "acme-trunk-2", "+14155550100"


@pytest.fixture
def calls(world):
    with tenant_context(world.acme):
        # Before the range, still up at its start: counts for concurrency only.
        plain_call("p0", direction="internal", started=at("2025-03-02 23:59:00"), billsec=600, ring=0)
        plain_call("p1", direction="inbound", started=at("2025-03-03 08:00:00"), billsec=120, trunk=T1, did=DID)
        plain_call("p2", direction="inbound", started=at("2025-03-03 08:01:00"), billsec=None, ring=40,
                   disposition="no_answer", trunk=T1, did=DID)
        plain_call("p3", direction="outbound", started=at("2025-03-03 08:01:30"), billsec=60, trunk=T2)
        plain_call("p4", direction="internal", started=at("2025-03-03 15:00:00"), billsec=30)
        plain_call("p5", direction="outbound", started=at("2025-03-04 09:00:00"), billsec=None,
                   disposition="busy", trunk=T2)
        plain_call("p6", direction="inbound", started=at("2025-03-04 10:00:00"), billsec=None, status="answered",
                   trunk=T1, did=DID)  # in progress: not counted yet, but it is up
    with tenant_context(world.globex):
        plain_call("g1", direction="inbound", started=at("2025-03-03 12:00:00"), billsec=90, trunk="globex-trunk-1")


def rows_of(rows, dimension):
    keys = ("interval_start", "direction", "disposition", "trunk", "did", "calls", "answered", "billsec", "minutes",
            "peak_concurrent")
    return [tuple(r[k] for k in keys) for r in rows if r["dimension"] == dimension]


def test_counters_per_day(world, calls):
    rows = call_counter_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-06T00:00:00Z", tz="UTC")
    d3, d4, d5 = at("2025-03-03 00:00:00"), at("2025-03-04 00:00:00"), at("2025-03-05 00:00:00")
    assert rows_of(rows, "total") == [
        # p0 is up at midnight (1), then p1, p2, p3 overlap at 08:01:30: peak 3.
        (d3, None, None, None, None, 4, 3, 210, 3.5, 3),
        (d4, None, None, None, None, 1, 0, 0, 0.0, 1),
        (d5, None, None, None, None, 0, 0, 0, 0.0, 1),  # p6 is still up
    ]
    assert rows_of(rows, "direction") == [
        (d3, "inbound", None, None, None, 2, 1, 120, 2.0, None),
        (d3, "internal", None, None, None, 1, 1, 30, 0.5, None),
        (d3, "outbound", None, None, None, 1, 1, 60, 1.0, None),
        (d4, "outbound", None, None, None, 1, 0, 0, 0.0, None)]
    assert rows_of(rows, "disposition") == [
        (d3, None, "answered", None, None, 3, 3, 210, 3.5, None),
        (d3, None, "no_answer", None, None, 1, 0, 0, 0.0, None),
        (d4, None, "busy", None, None, 1, 0, 0, 0.0, None)]
    assert [(r[1], r[2], r[5]) for r in rows_of(rows, "direction_disposition")] == [
        ("inbound", "answered", 1), ("inbound", "no_answer", 1), ("internal", "answered", 1),
        ("outbound", "answered", 1), ("outbound", "busy", 1)]
    assert rows_of(rows, "trunk") == [
        (d3, None, None, T1, None, 2, 1, 120, 2.0, None), (d3, None, None, T2, None, 1, 1, 60, 1.0, None),
        (d4, None, None, T2, None, 1, 0, 0, 0.0, None)]
    assert rows_of(rows, "did") == [(d3, None, None, None, DID, 2, 1, 120, 2.0, None)]


def test_the_hour_clocks_repeat_is_two_buckets_and_that_day_has_25_hours(world):
    berlin = ZoneInfo("Europe/Berlin")
    with tenant_context(world.acme):
        # 02:30 summer time, then 02:30 winter time, on 27 October 2024 in Berlin.
        plain_call("a", direction="internal", started=at("2024-10-27 00:30:00"), billsec=10)
        plain_call("b", direction="internal", started=at("2024-10-27 01:30:00"), billsec=20)
    hours = [r for r in call_counter_rows(world.acme, start="2024-10-27T02:00:00+02:00",
                                          end="2024-10-27T03:00:00+01:00", interval="hour", tz="Europe/Berlin")
             if r["dimension"] == "total"]
    assert [(r["interval_start"].isoformat(), r["interval_end"].isoformat(), r["calls"]) for r in hours] == [
        ("2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", 1),
        ("2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00", 1)]
    [day] = [r for r in call_counter_rows(world.acme, start="2024-10-27T00:00:00", end="2024-10-28T00:00:00",
                                          tz="Europe/Berlin") if r["dimension"] == "total"]
    utc = dt.timezone.utc  # (aware date-times in one zone subtract as wall-clock times)
    assert day["interval_end"].astimezone(utc) - day["interval_start"].astimezone(utc) == dt.timedelta(hours=25)
    assert (day["interval_start"], day["calls"], day["billsec"]) == (dt.datetime(2024, 10, 27, tzinfo=berlin), 2, 30)


def test_platform_roll_up_is_one_statement_over_the_schemas(world, calls):
    from apps.tenants.models import Tenant
    from tests.reports.test_agent_stats import statements

    tenants = list(Tenant.objects.filter(slug__in=["acme", "globex", "initech"]))
    queries, rows = statements(lambda: platform_call_counter_rows(
        tenants, start="2025-03-03T00:00:00Z", end="2025-03-04T00:00:00Z"))
    assert len(queries) == 1
    totals = [(r["tenant"], r["calls"], r["billsec"], r["peak_concurrent"]) for r in rows if r["dimension"] == "total"]
    assert totals == [("acme", 4, 210, 3), ("globex", 1, 90, 1), ("initech", 0, 0, 0)]
