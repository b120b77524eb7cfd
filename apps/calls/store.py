"""Writing what the tracker saw: call rows, legs, agent state and ``communications.*`` events.

``persist`` takes one batch of a server's changes and writes each tenant's part in one
transaction in that tenant's schema: calls and legs are upserted by ``(server_id, linkedid)`` and
``uniqueid``, and an event is emitted only for a transition the database did not have yet
(a new row is ``ringing``; ``answered_at`` going from empty to set is ``answered``; ``status``
becoming ``ended`` is ``ended``). So a replayed or duplicated event, a second replay of a whole
transcript, or a listener restart in the middle of a call never makes a second record or a second
event; an ended call is final and later events for it are ignored.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Iterable

from django.db import transaction
from django_tenants.utils import schema_context

from apps.billing.cdrs import write_cdrs
from apps.calls.models import Call, CallLeg
from apps.calls.tracker import CallState, MemberState, Moment
from apps.events.services import emit_events
from apps.reports.queue_calls import record as record_queue_calls

logger = logging.getLogger(__name__)

_LEG_FIELDS = ("channel", "kind", "endpoint", "extension", "caller_number", "caller_name", "connected_number",
               "answered_at", "ended_at", "hangup_cause", "hangup_cause_text", "held",
               "hold_seconds", "held_since")
_CALL_FIELDS = ("direction", "status", "caller_number", "caller_name", "callee_number", "callee_name", "did",
                "trunk", "extensions", "queue", "agent", "ivr_path", "disposition", "hangup_cause",
                "hangup_cause_text", "recording", "answered_at", "ended_at", "duration", "billsec",
                "queue_joined_at", "queue_left_at")


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return max(0, round((end - start).total_seconds())) if start and end else None


def call_fields(state: CallState) -> dict:
    caller_number, caller_name = state.caller
    callee_number, callee_name = state.callee
    ended = state.ended_at is not None
    last = next((leg for leg in reversed(list(state.legs.values())) if leg.hangup_cause is not None), None)
    first = state.first
    cause_leg = first if first is not None and first.hangup_cause is not None else last
    return {
        "direction": state.direction, "status": state.status,
        "caller_number": caller_number[:64], "caller_name": caller_name[:128],
        "callee_number": callee_number[:64], "callee_name": callee_name[:128],
        "did": state.did[:32], "trunk": state.trunk[:64], "extensions": state.extensions,
        "queue": state.queue[:32], "agent": state.agent[:32], "ivr_path": list(state.ivr_path),
        "disposition": state.disposition if ended else "",
        "hangup_cause": cause_leg.hangup_cause if ended and cause_leg else None,
        "hangup_cause_text": (cause_leg.hangup_cause_text if ended and cause_leg else "")[:64],
        "recording": state.recording[:255], "answered_at": state.answered_at, "ended_at": state.ended_at,
        "duration": _seconds(state.started_at, state.ended_at),
        "billsec": (_seconds(state.answered_at, state.ended_at) or 0) if ended else None,
        "queue_joined_at": state.queue_joined_at, "queue_left_at": state.queue_left_at,
    }


class Persisted:
    """What one ``persist`` call wrote (for the listener's counters and the tests)."""

    def __init__(self):
        self.calls = 0
        self.events = 0
        self.skipped_final = 0


def persist(*, server, tenants: dict[str, object], calls: Iterable[CallState], moments: Iterable[Moment],
            members: Iterable[MemberState]) -> Persisted:
    result = Persisted()
    by_tenant: dict[str, dict] = defaultdict(lambda: {"calls": [], "moments": [], "members": []})
    for state in calls:
        by_tenant[state.tenant]["calls"].append(state)
    for moment in moments:
        by_tenant[moment.tenant]["moments"].append(moment)
    for member in members:
        by_tenant[member.tenant]["members"].append(member)
    for slug, batch in by_tenant.items():
        tenant = tenants.get(slug)
        if tenant is None:
            continue
        with schema_context(tenant.schema_name), transaction.atomic():
            _persist_tenant(server, tenant, batch, result)
    return result


def _persist_tenant(server, tenant, batch: dict, result: Persisted) -> None:
    from apps.calls import events as call_events

    states: list[CallState] = batch["calls"]
    existing = {c.linkedid: c for c in Call.objects.select_for_update().filter(
        server_id=server.pk, linkedid__in=[s.linkedid for s in states])}
    before = {linkedid: (c.status, c.answered_at is not None, c.queue_joined_at is not None)
              for linkedid, c in existing.items()}
    new_calls, changed_calls, rows = [], [], {}
    for state in states:
        row = existing.get(state.linkedid)
        if row is not None and row.status == Call.Status.ENDED:
            result.skipped_final += 1
            continue  # final: a replay or a late event
        fields = call_fields(state)
        if row is None:
            row = Call(server_id=server.pk, linkedid=state.linkedid, started_at=state.started_at, **fields)
            row.contact_id = call_events.match_contact(tenant, row)
            new_calls.append(row)
        else:
            _merge(row, fields)
            changed_calls.append(row)
        rows[state.linkedid] = (row, state)
    Call.objects.bulk_create(new_calls)
    if changed_calls:
        Call.objects.bulk_update(changed_calls, _CALL_FIELDS)
    result.calls += len(rows)
    _persist_legs(rows)
    # CDRs and queue-call summaries of the calls that ended in this batch, in the same transaction
    # (apps/billing, apps/reports).
    ended = [row for linkedid, (row, _) in rows.items()
             if row.status == Call.Status.ENDED and before.get(linkedid, (None,))[0] != Call.Status.ENDED]
    write_cdrs(tenant, ended)
    record_queue_calls(tenant.schema_name, [row.pk for row in ended if row.queue])

    payloads: dict[str, list[dict]] = defaultdict(list)
    contacts = call_events.contacts_for(row for row, _ in rows.values())
    for linkedid, (row, state) in rows.items():
        was_status, was_answered, was_queued = before.get(linkedid, (None, False, False))
        payload = None

        def data():
            nonlocal payload
            payload = payload or call_events.call_payload(tenant, server, row, contacts.get(row.contact_id))
            return payload

        if was_status is None:
            payloads["communications.call.ringing"].append(data())
        if row.answered_at is not None and not was_answered:
            payloads["communications.call.answered"].append(data())
        if row.queue_joined_at is not None and not was_queued:
            payloads["communications.queue.caller_joined"].append(data())
        if row.status == Call.Status.ENDED:
            payloads["communications.call.ended"].append(data())
            if row.disposition == Call.Disposition.ABANDONED:
                payloads["communications.queue.caller_abandoned"].append(data())
            if row.direction == Call.Direction.INBOUND and row.disposition != Call.Disposition.ANSWERED:
                payloads["communications.call.missed"].append(data())
            call_events.log_to_crm(tenant, row, contacts.get(row.contact_id))
    for moment in batch["moments"]:
        if moment.kind in ("call.held", "call.unheld", "call.transferred") and moment.linkedid in rows:
            row, _ = rows[moment.linkedid]
            kind = {"call.held": "communications.call.held", "call.unheld": "communications.call.unheld",
                    "call.transferred": "communications.call.transferred"}[moment.kind]
            payloads[kind].append({**call_events.call_payload(tenant, server, row, contacts.get(row.contact_id)),
                                   **moment.data})
    payloads["communications.agent.state_changed"] += call_events.apply_members(tenant, batch["members"])
    for event_type, items in payloads.items():
        if items:
            emit_events(type=event_type, data=items, tenant=tenant)
            result.events += len(items)


_EARLIEST = ("answered_at", "queue_joined_at")


def _merge(row: Call, fields: dict) -> None:
    """Update a row from a tracker state without losing what only the row knows: after a restart
    the tracker rebuilt the call from the live channels, so an empty value does not clear a set
    one and a moment already recorded (answered, joined the queue) keeps its first time."""
    for key, value in fields.items():
        current = getattr(row, key)
        if key in _EARLIEST and current is not None:
            continue
        if value in ("", None, []) and current not in ("", None, []):
            continue
        setattr(row, key, value)
    if row.ended_at and row.answered_at:
        row.billsec = _seconds(row.answered_at, row.ended_at)
    if row.ended_at:
        row.duration = _seconds(row.started_at, row.ended_at)


def _persist_legs(rows: dict) -> None:
    call_ids = [row.pk for row, _ in rows.values()]
    existing = {(leg.call_id, leg.uniqueid): leg for leg in CallLeg.objects.filter(call_id__in=call_ids)}
    new, changed = [], []
    for row, state in rows.values():
        for leg in state.legs.values():
            values = {name: getattr(leg, name) for name in _LEG_FIELDS}
            values["channel"] = values["channel"][:128]
            values["caller_name"] = values["caller_name"][:128]
            current = existing.get((row.pk, leg.uniqueid))
            if current is None:
                new.append(CallLeg(call_id=row.pk, uniqueid=leg.uniqueid, started_at=leg.started_at, **values))
            else:
                # A tracker rebuilt after a restart knows no earlier holds: keep the recorded ones.
                values["hold_seconds"] = max(values["hold_seconds"], current.hold_seconds)
                for key, value in values.items():
                    setattr(current, key, value)
                changed.append(current)
    CallLeg.objects.bulk_create(new)
    if changed:
        CallLeg.objects.bulk_update(changed, _LEG_FIELDS)


def close_unfinished(*, server, tenants: dict[str, object], present: set[str], at: datetime) -> int:
    """After a reconnect: calls the database has in progress on this server whose channels the PBX
    no longer has (the PBX restarted, or they ended while nobody listened) are ended, with their
    events. Returns how many were closed."""
    from apps.calls.tracker import CallState, Leg

    closed = 0
    for tenant in tenants.values():
        with schema_context(tenant.schema_name):
            open_calls = list(Call.objects.filter(server_id=server.pk).exclude(status=Call.Status.ENDED)
                              .prefetch_related("legs"))
        states = []
        for call in open_calls:
            legs = list(call.legs.all())
            if any(leg.uniqueid in present for leg in legs):
                continue
            state = CallState(tenant.slug, call.linkedid, call.started_at, resynced=True)
            for leg in legs:
                state.legs[leg.uniqueid] = Leg(
                    uniqueid=leg.uniqueid, channel=leg.channel, kind=leg.kind, endpoint=leg.endpoint,
                    extension=leg.extension, caller_number=leg.caller_number, caller_name=leg.caller_name,
                    connected_number=leg.connected_number, started_at=leg.started_at, answered_at=leg.answered_at,
                    ended_at=leg.ended_at or at, hangup_cause=leg.hangup_cause, hold_seconds=leg.hold_seconds,
                    hangup_cause_text=leg.hangup_cause_text or "Gone after a PBX restart")
            restore(state, call)
            state.ended_at = at
            states.append(state)
        if states:
            persist(server=server, tenants={tenant.slug: tenant}, calls=states, moments=[], members=[])
            closed += len(states)
    return closed


def restore(state: CallState, call: Call) -> None:
    """Put what the database knows of a call back into a tracker state (after a restart)."""
    state.dialled = call.callee_number if call.direction != Call.Direction.INBOUND else ""
    state.did, state.trunk, state.queue, state.agent = call.did, call.trunk, call.queue, call.agent
    state.ivr_path = list(call.ivr_path or [])
    state.recording = call.recording
    state.answered_at = call.answered_at
    state.queue_joined_at, state.queue_left_at = call.queue_joined_at, call.queue_left_at
    state.queue_connected = bool(call.agent)
    state.human_answered = bool(call.agent) or any(
        leg.answered_at for leg in state.legs.values() if leg.uniqueid != call.linkedid)
