"""What a call means to the rest of the portal: event payloads (with the screen-pop contact and
the extension's routing details), the CRM call log, and agent state changed on the PBX.

All of it runs inside ``store.persist``'s transaction, in the tenant's schema.
"""
from __future__ import annotations

import logging
from typing import Iterable


from apps.calls.models import Call
from apps.calls.tracker import MemberState

logger = logging.getLogger(__name__)

def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def outside_number(call: Call) -> str:
    """The number of the party outside the tenant: the caller of an inbound call, the callee of an
    outbound one (internal calls have none)."""
    if call.direction == Call.Direction.INBOUND:
        return call.caller_number
    if call.direction == Call.Direction.OUTBOUND:
        return call.callee_number
    return ""


def match_contact(tenant, call: Call) -> int | None:
    """The CRM contact of the outside party, found with the CRM's phone look-up (any format)."""
    from apps.crm.phones import PhoneError
    from apps.crm.selectors import contacts_by_phone

    number = outside_number(call)
    if not number:
        return None
    try:
        return contacts_by_phone(number, tenant.default_region or "US").values_list("pk", flat=True).first()
    except (PhoneError, ValueError):
        return None


def contacts_for(calls: Iterable[Call]) -> dict[int, dict]:
    from apps.crm.models import Contact

    ids = {c.contact_id for c in calls if c.contact_id}
    if not ids:
        return {}
    return {c.pk: {"id": c.pk, "name": c.full_name or c.email,
                   "account": {"id": c.account_id, "name": c.account.name} if c.account_id else None}
            for c in Contact.objects.select_related("account").filter(pk__in=ids)}


def _extension(tenant, number: str) -> dict | None:
    from apps.telephony.models import Extension

    if not number:
        return None
    ext = Extension.objects.select_related("location").filter(number=number).first()
    if ext is None:
        return {"number": number, "name": "", "phone_username": f"{number}-{tenant.slug}", "location": None,
                "primary_server": tenant.primary_server.name if tenant.primary_server_id else None}
    return {"number": ext.number, "name": ext.name, "phone_username": ext.phone_username_for(tenant.slug),
            "location": ext.location.code if ext.location_id else None,
            "primary_server": tenant.primary_server.name if tenant.primary_server_id else None}


def call_payload(tenant, server, call: Call, contact: dict | None) -> dict:
    extension = call.agent or (call.extensions[0] if call.extensions else "")
    return {
        "call_id": call.linkedid, "id": call.pk, "direction": call.direction, "status": call.status,
        "from": call.caller_number, "from_name": call.caller_name, "to": call.callee_number,
        "to_name": call.callee_name, "did": call.did, "trunk": call.trunk,
        "extension": _extension(tenant, extension), "extensions": list(call.extensions or []),
        "queue": call.queue, "agent": call.agent, "ivr_path": list(call.ivr_path or []),
        "started_at": _iso(call.started_at), "answered_at": _iso(call.answered_at), "ended_at": _iso(call.ended_at),
        "duration": call.duration, "billsec": call.billsec, "disposition": call.disposition,
        "hangup_cause": call.hangup_cause, "recording": call.recording, "server": server.name,
        "contact": contact,
    }


def log_to_crm(tenant, call: Call, contact: dict | None) -> None:
    """A call activity on the matched contact, when the tenant logs calls of this direction,
    written by the CRM's own service (audit and ``crm.activity.created`` like any activity)."""
    from apps.accounts.principal import Principal
    from apps.crm.models import Activity
    from apps.crm.services import activity_create

    if contact is None or not getattr(tenant, "crm_call_logging", True):
        return
    directions = getattr(tenant, "crm_call_log_directions", None) or ["inbound", "outbound"]
    if call.direction not in directions:
        return
    who = call.agent or ", ".join(call.extensions or []) or "-"
    label = {"inbound": "Inbound call", "outbound": "Outbound call"}.get(call.direction, "Call")
    body = "\n".join(filter(None, [
        f"Direction: {call.direction}", f"From: {call.caller_number}", f"To: {call.callee_number}",
        f"Disposition: {call.disposition}", f"Duration: {call.duration or 0} s (talk {call.billsec or 0} s)",
        f"Agent/extension: {who}", f"Queue: {call.queue}" if call.queue else "",
        f"Recording: {call.recording}" if call.recording else "", f"Call id: {call.linkedid}"]))
    # Idempotent like the rest: one activity per call (the subject carries the call id).
    subject = f"{label} ({call.disposition.replace('_', ' ')}) [{call.linkedid}]"[:200]
    if Activity.objects.filter(contact_id=contact["id"], kind=Activity.Kind.CALL, subject=subject).exists():
        return
    activity_create(actor=Principal.system("pbx"), tenant=tenant, kind=Activity.Kind.CALL, subject=subject,
                    body=body, contact_id=contact["id"], occurred_at=call.started_at,
                    duration_seconds=call.duration, owner=who[:150])


def apply_members(tenant, members: list[MemberState]) -> list[dict]:
    """Agent state as the PBX reports it (a pause on the phone, a login by feature code, a
    resync after a restart): the agent whose extension is the member follows, with one
    ``communications.agent.state_changed`` event per real change. The change goes through the
    telephony service, so it is audited and emits ``config.agent.updated`` like one made in the API."""
    from apps.accounts.principal import Principal
    from apps.calls import live
    from apps.telephony.models import Agent
    from apps.telephony.services import agent_set_state

    if not members:
        return []
    live.record_members(tenant, members)
    extensions = {m.extension for m in members if m.extension}
    agents = {a.extension.number: a for a in Agent.objects.select_related("extension")
              .filter(extension__number__in=extensions)}
    payloads = []
    actor = Principal.system("pbx")
    for member in members:
        agent = agents.get(member.extension)
        if agent is None:
            continue
        if member.event == "QueueMemberRemoved":
            state, reason = Agent.State.LOGGED_OUT, ""
        elif member.paused:
            state, reason = Agent.State.PAUSED, member.reason
        else:
            state, reason = Agent.State.LOGGED_IN, ""
        if state == agent.state and reason == agent.pause_reason:
            continue
        previous = agent.state
        agent = agents[member.extension] = agent_set_state(actor=actor, tenant=tenant, instance=agent, state=state,
                                                           pause_reason=reason[:100])
        payloads.append({"agent": {"id": agent.pk, "name": agent.name}, "extension": member.extension,
                         "queue": member.queue, "state": state, "previous_state": previous,
                         "pause_reason": agent.pause_reason, "source": "pbx"})
    return payloads
