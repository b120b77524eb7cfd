"""Known call records for the statistics: calls, legs and agent state changes written with exact
times, so every figure a test expects can be worked out by hand."""
from __future__ import annotations

import datetime as dt

import pytest

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    """``"2025-03-03 09:00:05"`` in UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def s(value: dt.datetime, seconds: float) -> dt.datetime:
    return value + dt.timedelta(seconds=seconds)


def queue_call(linkedid: str, *, queue: str, joined: dt.datetime, rung: list[tuple[str, float, float | None]],
               agent: str = "", answered_after: float | None = None, talk: float = 0, hold: int = 0,
               direction: str = "inbound", trunk: str = "acme-trunk-1", did: str = "+14155550100"):
    """A queue call: the caller's trunk leg, then one leg per member rung (``(extension,
    start offset, answer offset or None)`` from ``joined``); the agent's leg talks ``talk`` s
    after answering, ``hold`` of them on hold."""
    from apps.calls.models import Call, CallLeg

    started = s(joined, -5)
    if agent:
        answered = s(joined, answered_after)
        ended = s(answered, talk)
        disposition = "answered"
    else:
        answered = None
        ended = s(joined, max((r[1] for r in rung), default=0) + 20)
        disposition = "abandoned"
    call = Call.objects.create(
        server_id=1, linkedid=linkedid, direction=direction, status="ended", caller_number="+14155550123",
        callee_number=did, did=did, trunk=trunk, queue=queue, agent=agent, disposition=disposition,
        started_at=started, answered_at=s(started, 1), ended_at=ended,
        duration=round((ended - started).total_seconds()),
        billsec=round((ended - s(started, 1)).total_seconds()),
        queue_joined_at=joined, queue_left_at=answered or ended)
    CallLeg.objects.create(call=call, uniqueid=linkedid, channel=f"PJSIP/{trunk}-1", kind="trunk", endpoint=trunk,
                           started_at=started, answered_at=s(started, 1), ended_at=ended)
    for n, (ext, start_after, answer_after) in enumerate(rung, 1):
        leg_start = s(joined, start_after)
        leg_answer = s(joined, answer_after) if answer_after is not None else None
        CallLeg.objects.create(
            call=call, uniqueid=f"{linkedid}.{n}", channel=f"PJSIP/{ext}-acme-{n}", kind="extension",
            endpoint=f"{ext}-acme", extension=ext, started_at=leg_start, answered_at=leg_answer,
            ended_at=ended if leg_answer else s(leg_start, 15), hold_seconds=hold if ext == agent else 0)
    summarise(call)
    return call


def summarise(call) -> None:
    """What the call store does when a call ends: its queue-call summary for the statistics."""
    from django.db import connection

    from apps.reports.queue_calls import record

    record(connection.schema_name, [call.pk])


def plain_call(linkedid: str, *, direction: str, started: dt.datetime, billsec: int | None, ring: int = 5,
               disposition: str = "answered", trunk: str = "", did: str = "", status: str = "ended"):
    from apps.calls.models import Call

    answered = s(started, ring) if billsec is not None else None
    ended = (s(answered, billsec) if answered else s(started, ring)) if status == "ended" else None
    return Call.objects.create(
        server_id=1, linkedid=linkedid, direction=direction, status=status, disposition=disposition if ended else "",
        started_at=started, answered_at=answered, ended_at=ended, trunk=trunk, did=did,
        duration=round((ended - started).total_seconds()) if ended else None,
        billsec=(billsec or 0) if ended else None)


@pytest.fixture
def acme_agents(world, system_actor):
    """Extensions 1001-1003 in acme; agents Ann (1001) and Bob (1002); queues 2000 (wrap-up 10 s)
    and 2001 (no wrap-up)."""
    from django_tenants.utils import tenant_context

    from apps.telephony import services as tel

    with tenant_context(world.acme):
        exts = {n: tel.extension_create(actor=system_actor, tenant=world.acme, number=n, name=f"Ext {n}")
                for n in ("1001", "1002", "1003")}
        ann = tel.agent_create(actor=system_actor, tenant=world.acme, name="Ann", extension=exts["1001"],
                               login_code="11")
        bob = tel.agent_create(actor=system_actor, tenant=world.acme, name="Bob", extension=exts["1002"],
                               login_code="12")
        q1 = tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Sales", wrapup_time=10)
        q2 = tel.queue_create(actor=system_actor, tenant=world.acme, number="2001", name="Support")
    return {"ann": ann, "bob": bob, "exts": exts, "sales": q1, "support": q2}
