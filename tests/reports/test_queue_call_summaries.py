"""Ended queue calls are summarised once (``reports_queuecall``); statistics read the summaries
for ended calls and work out calls still up from their legs, and both give the same figures."""
from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.calls.models import Call, CallLeg
from apps.reports.datasets import agent_stats_rows
from apps.reports.models import AgentStateChange, QueueCall
from apps.reports.queue_calls import rebuild, record
from tests.reports.conftest import at, queue_call

pytestmark = pytest.mark.django_db

KEYS = ("level", "extension", "queue", "offered", "answered", "answered_within_sl", "talk_seconds", "hold_seconds",
        "wrapup_seconds")


def figures(world):
    rows = agent_stats_rows(world.acme, start="2025-03-03T00:00:00Z", end="2025-03-05T00:00:00Z", tz="UTC",
                            by_queue=True)
    return [tuple(row[k] for k in KEYS) for row in rows]


@pytest.fixture
def two_calls(world, acme_agents):
    with tenant_context(world.acme):
        AgentStateChange.objects.all().delete()
        queue_call("c1", queue="2000", joined=at("2025-03-03 09:00:00"), rung=[("1001", 2, 8), ("1002", 2, None)],
                   agent="1001", answered_after=8, talk=120, hold=20)
        queue_call("c2", queue="2000", joined=at("2025-03-03 11:00:00"), rung=[("1001", 1, None)])


def test_each_ended_queue_call_has_one_summary_and_recording_again_changes_nothing(world, two_calls):
    with tenant_context(world.acme):
        rows = {q.queue + "/" + (q.agent or "-"): q for q in QueueCall.objects.all()}
        assert sorted(rows) == ["2000/-", "2000/1001"]
        answered = rows["2000/1001"]
        assert sorted(answered.members) == ["1001", "1002"] and answered.wait == 8
        assert (answered.talk, answered.hold, answered.wrapup) == (100, 20, 10)
        unanswered = rows["2000/-"]
        assert unanswered.members == ["1001"] and unanswered.talk is None and unanswered.wait is None
        assert record(connection.schema_name, list(Call.objects.values_list("id", flat=True))) == 0
        assert QueueCall.objects.count() == 2


def test_a_call_still_up_counts_from_its_legs_then_from_its_summary_once_ended(world, two_calls):
    with tenant_context(world.acme):
        ended = figures(world)
        call = Call.objects.get(linkedid="c1")
        legs = list(CallLeg.objects.filter(call=call))
        # The same call, still up: not summarised, its agent's leg open.
        QueueCall.objects.filter(call_id=call.pk).delete()
        Call.objects.filter(pk=call.pk).update(status="answered", ended_at=None, disposition="")
        agent_leg = next(leg for leg in legs if leg.extension == "1001")
        CallLeg.objects.filter(pk=agent_leg.pk).update(ended_at=None)
        CallLeg.objects.filter(call=call, kind="trunk").update(ended_at=None)
        live = figures(world)
        # Offers, answers and the service level are the same; talk runs on until now.
        assert [r[:6] for r in live] == [r[:6] for r in ended]
        ann_live = next(r for r in live if r[0] == "agent" and r[1] == "1001")
        assert ann_live[6] > 100  # connected since 2025: far more than the 100 s it talked
        # It ends (as the call store does it): the summary is written and the figures are the ended ones.
        Call.objects.filter(pk=call.pk).update(status="ended", ended_at=at("2025-03-03 09:02:08"),
                                               disposition="answered")
        CallLeg.objects.filter(call=call).update(ended_at=at("2025-03-03 09:02:08"))
        CallLeg.objects.filter(pk__in=[leg.pk for leg in legs if leg.extension == "1002"]).update(
            ended_at=at("2025-03-03 09:00:17"))
        assert record(connection.schema_name, [call.pk]) == 1
        assert figures(world) == ended


def test_an_ended_call_is_never_counted_twice_and_rebuild_restores_the_summaries(world, two_calls):
    with tenant_context(world.acme):
        before = figures(world)
        assert before  # the two calls count
        QueueCall.objects.all().delete()
        # Ended calls are read from their summaries only: without them they do not count ...
        assert figures(world) == []
        # ... and rebuild (the migration's backfill, manage.py rebuild_queue_calls) writes them again.
        assert rebuild(connection.schema_name) == 2
        assert figures(world) == before
        assert rebuild(connection.schema_name) == 2 and QueueCall.objects.count() == 2


def test_summaries_outlive_call_record_retention(world, two_calls):
    from apps.billing.retention import purge_tenant

    with tenant_context(world.acme):
        before = figures(world)
    world.acme.call_retention_days = 30
    world.acme.save(update_fields=["call_retention_days"])
    purge_tenant(world.acme)
    with tenant_context(world.acme):
        assert Call.objects.count() == 0 and QueueCall.objects.count() == 2
        assert figures(world) == before
        assert rebuild(connection.schema_name) == 0 and QueueCall.objects.count() == 2


def test_the_rebuild_command_rewrites_the_summaries_and_refuses_an_unknown_tenant(world, two_calls):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with tenant_context(world.acme):
        before = figures(world)
        QueueCall.objects.all().delete()
    out = StringIO()
    call_command("rebuild_queue_calls", tenant=["acme"], no_progress=True, stdout=out)
    assert out.getvalue().strip() == "2 queue call(s) summarised in 1 tenant(s)."
    with tenant_context(world.acme):
        assert figures(world) == before
    with pytest.raises(CommandError, match="unknown tenant: nope"):
        call_command("rebuild_queue_calls", tenant=["acme", "nope"], no_progress=True, stdout=StringIO())
