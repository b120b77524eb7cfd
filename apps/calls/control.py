"""Call control requests: check them against the tenant's own rows, write the job, queue the task.

    POST /api/call-control/<tenant>/originate/  ->  call_control_request(action="originate", ...)
                                               ->  CallControlJob (queued) + audit entry, one transaction
                                               ->  on commit: calls.run_control_job(job_id, tenant_id)

Everything the PBX will be told is decided here, on the request path, from this tenant's schema:
an extension, queue or channel another tenant owns is simply not found (the tables are this
tenant's), so the task only turns ``job.parameters`` into AMI headers (apps.calls.control_ami).
Numbers are checked the way the rendered dialplan routes them (apps.pbx.render.dialplan): internal
numbers, a dial pattern of an enabled route with a trunk, or E.164 when an ordinary route has one.

Hold and park are refused with 409 ``not_supported_by_dialplan``: AMI has no hold action, and the
rendered configuration has no parking lot (res_parking.conf is not ours, and a shared lot would let
tenants pick up each other's calls).
"""
from __future__ import annotations

import logging
import re

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from apps.audit.models import AuditEntry
from apps.calls.models import Call, CallControlJob, CallLeg
from apps.pbx.render import text
from apps.pbx.render.confcheck import pattern_regex
from apps.telephony.models import Did, Extension, Ivr, OutboundRoute, OutboundRouteTrunk, Queue, QueueMember
from thirdlane.api.errors import Conflict, DomainError, NotFound
from thirdlane.services import record_change

logger = logging.getLogger(__name__)

A = CallControlJob.Action
UNSUPPORTED = {
    "hold": "AMI has no hold action; a phone holds its own call.",
    "park": "The tenant's dialplan has no parking lot.",
}
_DIALABLE = re.compile(r"^\+?[0-9*#]{1,32}$")
_CHANNEL = re.compile(r"^[A-Za-z0-9_./@;:+#*-]{3,128}$")


# --- references: this tenant's rows only ----------------------------------------------------------

def _extension(number: str, field: str) -> Extension:
    ext = Extension.objects.filter(number=number, enabled=True).first()
    if ext is None:
        raise DomainError(f"No extension {number!r} in this tenant.", code="reference_not_found", field=field)
    return ext


def _queue(number: str, field: str) -> Queue:
    queue = Queue.objects.filter(number=number).first()
    if queue is None:
        raise DomainError(f"No queue {number!r} in this tenant.", code="reference_not_found", field=field)
    return queue


def routable(number: str) -> bool:
    """Whether a call from one of the tenant's phones to ``number`` leaves the dialplan somewhere:
    an internal number, a dial pattern (or emergency number) of an enabled route with an enabled
    trunk, or E.164 when an ordinary route has a trunk (the ``<t>-external`` context)."""
    if number.isdigit() and (Extension.objects.filter(number=number, enabled=True).exists()
                             or Queue.objects.filter(number=number).exists()
                             or Ivr.objects.filter(number=number).exists()):
        return True
    has_trunk = Exists(OutboundRouteTrunk.objects.filter(route=OuterRef("pk"), trunk__enabled=True))
    routes = list(OutboundRoute.objects.filter(has_trunk, enabled=True)
                  .values_list("dial_patterns", "emergency_numbers", "is_emergency"))
    if text.is_e164(number) and any(not emergency for _, _, emergency in routes):
        return True
    for patterns, emergency_numbers, emergency in routes:
        for pattern in list(patterns or []) + list(emergency_numbers if emergency else []):
            pattern = text.pattern(pattern)
            if pattern and (pattern == number if not pattern.startswith("_") else pattern_regex(pattern).match(number)):
                return True
    return False


def _number(value: str, field: str) -> str:
    number = (value or "").strip()
    if not _DIALABLE.match(number):
        raise DomainError("Digits, * and # only, with an optional leading +.", code="validation_error", field=field)
    if not routable(number):
        raise DomainError(f"The tenant's dialplan has no route for {number}.", code="number_not_routable", field=field)
    return number


def _caller_id(value: str, field: str = "caller_id") -> str:
    """A caller ID override must be the tenant's own: one of its DIDs or extension numbers."""
    if not (Did.objects.filter(number=value, enabled=True).exists()
            or Extension.objects.filter(number=value, enabled=True).exists()):
        raise DomainError(f"{value} is not one of this tenant's DIDs or extensions.", code="caller_id_not_allowed",
                          field=field)
    return value


def live_leg(channel: str, field: str = "channel") -> CallLeg:
    """A channel of one of this tenant's calls in progress, else 404 ``channel_not_found`` (a
    channel of another tenant is not in this schema at all, so it is the same answer)."""
    leg = None
    if _CHANNEL.match(channel or ""):
        leg = (CallLeg.objects.select_related("call")
               .filter(channel=channel, ended_at__isnull=True).exclude(call__status=Call.Status.ENDED)
               .order_by("-started_at", "-id").first())
    if leg is None:
        raise NotFound(f"No call in progress of this tenant has the channel {channel!r}.", code="channel_not_found",
                       field=field)
    return leg


# --- the requests ---------------------------------------------------------------------------------

def _originate(tenant, *, extension: str, number: str, caller_id: str = "", ring_timeout: int | None = None):
    ext = _extension(extension, "extension")
    params = {"extension": ext.number, "number": _number(number, "number"),
              "ring_timeout": ring_timeout or ext.ring_time,
              "caller_id_name": text.callerid_name(ext.caller_id_name or ext.name)}
    if caller_id:
        params["caller_id"] = _caller_id(caller_id)
    return params, None


def _hangup(tenant, *, channel: str):
    leg = live_leg(channel)
    return {"channel": leg.channel, "call_id": leg.call.linkedid}, leg.call.server_id


def _transfer(tenant, *, channel: str, destination: str):
    leg = live_leg(channel)
    return ({"channel": leg.channel, "call_id": leg.call.linkedid,
             "destination": _number(destination, "destination")}, leg.call.server_id)


def _queue_member(tenant, *, extension: str, queue: str = "", reason: str = ""):
    ext = _extension(extension, "extension")
    params = {"extension": ext.number}
    if queue:
        q = _queue(queue, "queue")
        member = QueueMember.objects.filter(Q(extension=ext) | Q(agent__extension=ext), queue=q).exists()
        if not member:
            raise DomainError(f"Extension {ext.number} is not a member of queue {q.number}.",
                              code="not_a_queue_member", field="extension")
        params["queue"] = q.number
    elif not QueueMember.objects.filter(Q(extension=ext) | Q(agent__extension=ext)).exists():
        raise DomainError(f"Extension {ext.number} is not a member of any queue.", code="not_a_queue_member",
                          field="extension")
    if reason:
        params["reason"] = reason
    return params, None


VALIDATORS = {
    A.ORIGINATE: _originate,
    A.HANGUP: _hangup,
    A.BLIND_TRANSFER: _transfer,
    A.ATTENDED_TRANSFER: _transfer,
    A.QUEUE_PAUSE: _queue_member,
    A.QUEUE_UNPAUSE: _queue_member,
}


def refuse_unsupported(*, tenant, action: str) -> None:
    raise Conflict(f"{action.capitalize()} is not available on {tenant.slug}'s PBX: {UNSUPPORTED[action]}",
                   code="not_supported_by_dialplan")


def call_control_request(*, actor, tenant, action: str, **fields) -> CallControlJob:
    """Validate ``fields`` for ``action`` (CallControlJob.Action), write the queued job and its
    audit entry, and queue the task once the transaction commits."""
    validate = VALIDATORS.get(action)
    if validate is None:
        raise DomainError(f"Unknown call-control action {action!r}.", code="validation_error", field="action")
    parameters, call_server_id = validate(tenant, **fields)
    if tenant.primary_server_id is None:
        raise Conflict(f"Tenant {tenant.slug} has no primary server.", code="no_primary_server")
    with transaction.atomic():
        job = CallControlJob.objects.create(action=action, parameters=parameters,
                                            server_id=call_server_id or tenant.primary_server_id,
                                            requested_by=str(getattr(actor, "label", "") or "")[:150])
        record_change(actor=actor, action=AuditEntry.Action.ACTION, instance=job, tenant=tenant,
                      verb=f"call_control.{action}")
        job_id, tenant_id = job.pk, tenant.pk
        transaction.on_commit(lambda: enqueue(job_id, tenant_id))
    return job


def enqueue(job_id: int, tenant_id: int) -> None:
    from apps.calls.tasks import run_control_job

    try:
        run_control_job.delay(job_id, tenant_id)
    except Exception:  # the job stays queued; calls.expire_control_jobs (beat) fails it after a while
        logger.warning("could not queue call-control job %s", job_id, exc_info=True)
