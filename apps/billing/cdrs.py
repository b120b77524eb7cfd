"""Writing CDRs when calls end (called by ``apps.calls.store`` in the call's transaction).

Rows per ended call:
- each trunk leg is one CDR: the leg the call came in on (its first channel: Asterisk gives the
  first channel the call's Linkedid as Uniqueid) is ``inbound``, from the caller to the DID; any
  other trunk leg is ``outbound``, from the caller ID it presented to the number it dialled;
  its times, billsec and disposition are the leg's own (a forwarded call bills both legs);
- a call with no trunk leg (internal, inter-site) is one CDR with the call's times.

Numbers that are phone numbers are written in E.164 (national ones read in the tenant's default
region); extensions and anything else stay as they are. The insert takes a per-tenant advisory
lock held to commit, so CDR ids become visible in increasing order (the pull cursor relies on it).
"""
from __future__ import annotations

from typing import Iterable

import phonenumbers
from django.db import connection

from apps.billing.models import Cdr
from apps.calls.mapping import parse_endpoint

# Q.850 causes of a leg that was not answered.
_BUSY = {17}
_NO_ANSWER = {16, 18, 19, 21, 31}


def e164(number: str, region: str) -> str:
    """``number`` in E.164 when it is a valid phone number, else as it is (an extension)."""
    raw = (number or "").strip()
    digits = sum(c.isdigit() for c in raw)
    if digits < 7 or not (raw[:1] == "+" or raw[:1].isdigit() or raw[:1] == "("):
        return raw[:64]
    try:
        parsed = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException:
        return raw[:64]
    if not phonenumbers.is_valid_number(parsed):
        return raw[:64]
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _seconds(start, end) -> int:
    return max(0, round((end - start).total_seconds())) if start and end else 0


def _leg_disposition(leg, call) -> str:
    if leg.answered_at:
        return Cdr.Disposition.ANSWERED
    if leg.hangup_cause in _BUSY:
        return Cdr.Disposition.BUSY
    if leg.hangup_cause in _NO_ANSWER or leg.hangup_cause is None:
        return Cdr.Disposition.NO_ANSWER
    return Cdr.Disposition.FAILED


def _trunk_names(endpoints: set[str]) -> dict[str, str]:
    """PBX endpoint (``acme-trunk-2``) → the trunk's name in the portal (one query)."""
    from apps.telephony.models import Trunk

    ids = {}
    for endpoint in endpoints:
        parsed = parse_endpoint(endpoint)
        if parsed is not None and parsed.trunk_id:
            ids[endpoint] = parsed.trunk_id
    names = dict(Trunk.objects.filter(pk__in=set(ids.values())).values_list("pk", "name"))
    return {endpoint: names.get(trunk_id, endpoint) for endpoint, trunk_id in ids.items()}


def rows_for(tenant, calls: Iterable, legs_by_call: dict[int, list]) -> list[Cdr]:
    region = tenant.default_region
    calls = list(calls)
    trunks = _trunk_names({leg.endpoint for legs in legs_by_call.values() for leg in legs if leg.kind == "trunk"}
                          | {call.trunk for call in calls if call.trunk})
    out = []
    for call in calls:
        ended = call.ended_at or call.started_at
        extension = call.agent or next(iter(call.extensions or []), "")
        trunk_legs = [leg for leg in legs_by_call.get(call.pk, []) if leg.kind == "trunk"]
        common = {"server_id": call.server_id, "linkedid": call.linkedid, "call_id": call.pk,
                  "account_code": tenant.account_code, "extension": extension[:32]}
        if not trunk_legs:
            out.append(Cdr(
                **common, leg="", direction=call.direction,
                source=e164(call.caller_number, region), destination=e164(call.callee_number, region),
                did=call.did, trunk=trunks.get(call.trunk, call.trunk)[:64],
                disposition=call.disposition or Cdr.Disposition.NO_ANSWER,
                hangup_cause=call.hangup_cause, hangup_cause_text=call.hangup_cause_text,
                started_at=call.started_at, answered_at=call.answered_at, ended_at=ended,
                duration=_seconds(call.started_at, ended), billsec=_seconds(call.answered_at, ended)))
            continue
        for leg in trunk_legs:
            leg_end = leg.ended_at or ended
            inbound = leg.uniqueid == call.linkedid and call.direction == Cdr.Direction.INBOUND
            if inbound:
                source, destination, did = leg.caller_number or call.caller_number, call.did or call.callee_number, \
                    call.did
                disposition = call.disposition or _leg_disposition(leg, call)
            else:
                # The caller ID the leg presented to the carrier, else the calling extension.
                source = leg.caller_number if _is_phone(leg.caller_number) else call.caller_number
                destination, did = call.callee_number or leg.connected_number, ""
                disposition = _leg_disposition(leg, call)
            out.append(Cdr(
                **common, leg=leg.uniqueid[:64],
                direction=Cdr.Direction.INBOUND if inbound else Cdr.Direction.OUTBOUND,
                source=e164(source, region), destination=e164(destination, region), did=did,
                trunk=trunks.get(leg.endpoint, leg.endpoint)[:64], disposition=disposition,
                hangup_cause=leg.hangup_cause, hangup_cause_text=leg.hangup_cause_text,
                started_at=leg.started_at, answered_at=leg.answered_at, ended_at=leg_end,
                duration=_seconds(leg.started_at, leg_end), billsec=_seconds(leg.answered_at, leg_end)))
    return out


def _is_phone(number: str) -> bool:
    return sum(c.isdigit() for c in number or "") >= 7


def lock(schema: str) -> None:
    """The per-tenant CDR lock, held until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.cdr'), hashtext(%s))", [schema])


def write_cdrs(tenant, calls: list) -> int:
    """CDRs of ``calls`` (ended, saved) in the current tenant schema and transaction; idempotent:
    a call already written is skipped (``cdr_once_per_leg``)."""
    from apps.calls.models import CallLeg

    if not calls:
        return 0
    legs: dict[int, list] = {}
    for leg in CallLeg.objects.filter(call_id__in=[c.pk for c in calls]).order_by("started_at", "id"):
        legs.setdefault(leg.call_id, []).append(leg)
    rows = rows_for(tenant, calls, legs)
    lock(tenant.schema_name)
    Cdr.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
