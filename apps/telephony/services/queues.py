"""Queues (with their members) and agents."""
from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.audit.services import snapshot
from apps.telephony.models import Agent, Extension, Queue, QueueMember
from apps.telephony.services.common import (
    advisory_lock, check_fields, check_limit, clean, delete, record_created, record_updated, resolve_one, save,
    tenant_service,
)
from apps.telephony.services.extensions import change_number, ensure_number_free
from apps.telephony.validators import (
    validate_destination, validate_internal_number, validate_text, validate_token,
)
from thirdlane.api.errors import Conflict, DomainError, Invalid

QUEUE_PREFIX = "config.queue"
AGENT_PREFIX = "config.agent"
QUEUE_FIELDS = {"name", "strategy", "ring_timeout", "wrapup_time", "max_wait", "max_callers", "music_on_hold",
                "announce_position", "announce_hold_time", "announce_frequency", "join_empty", "fallback", "members"}
AGENT_FIELDS = {"extension", "login_code", "state", "pause_reason"}


def queue_payload(queue: Queue) -> dict[str, Any]:
    return {"id": queue.pk, "number": queue.number, "name": queue.name, "strategy": queue.strategy,
            "ring_timeout": queue.ring_timeout, "wrapup_time": queue.wrapup_time, "max_wait": queue.max_wait,
            "fallback": queue.fallback.as_dict(),
            "members": [{"extension": m.extension_id, "agent": m.agent_id, "penalty": m.penalty}
                        for m in queue.members.all()]}


def _pk(value, field: str) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        raise Invalid(f"{field} must be an id.", field=field) from None


def _members(raw: list[dict]) -> list[QueueMember]:
    """Validate member rows: exactly one of extension/agent, each once, all in this tenant."""
    wanted: list[tuple[int, str, int, int]] = []  # (row index, kind, pk, penalty)
    seen = set()
    for i, row in enumerate(raw):
        unknown = set(row) - {"extension", "agent", "penalty"}
        if unknown:
            raise Invalid(f"Unknown member fields: {', '.join(sorted(unknown))}.", field=f"members[{i}]")
        ext, agent = row.get("extension"), row.get("agent")
        if (ext is None) == (agent is None):
            raise Invalid("A member is an extension or an agent (exactly one).", field=f"members[{i}]")
        kind = "extension" if ext is not None else "agent"
        pk = _pk(ext if ext is not None else agent, f"members[{i}].{kind}")
        if (kind, pk) in seen:
            raise Conflict("The same member is listed twice.", code="duplicate", field=f"members[{i}].{kind}")
        seen.add((kind, pk))
        penalty = row.get("penalty") or 0
        if not isinstance(penalty, int) or not 0 <= penalty <= 100:
            raise Invalid("Penalty is 0 to 100.", field=f"members[{i}].penalty")
        wanted.append((i, kind, pk, penalty))
    found = {
        "extension": Extension.objects.in_bulk([pk for _, k, pk, _ in wanted if k == "extension"]),
        "agent": Agent.objects.in_bulk([pk for _, k, pk, _ in wanted if k == "agent"]),
    }
    members = []
    for i, kind, pk, penalty in wanted:
        obj = found[kind].get(pk)
        if obj is None:
            raise DomainError(f"No {kind} with id {pk} in this tenant.", code="reference_not_found",
                              field=f"members[{i}].{kind}")
        members.append(QueueMember(penalty=penalty, **{kind: obj}))
    return members


def _set_members(queue: Queue, members: list[QueueMember]) -> None:
    queue.members.all().delete()
    for member in members:
        member.queue = queue
    QueueMember.objects.bulk_create(members)
    if hasattr(queue, "_prefetched_objects_cache"):
        queue._prefetched_objects_cache.pop("members", None)


def _apply_queue(queue: Queue, tenant, fields: dict[str, Any]) -> list[QueueMember] | None:
    members = fields.pop("members", None)
    for name, value in fields.items():
        if name == "fallback":
            queue.fallback = validate_destination(tenant, value, field="fallback", required=False)
        elif name == "music_on_hold":
            queue.music_on_hold = validate_token(value, field="music_on_hold")
        elif name == "name":
            queue.name = validate_text(value, field="name")
        else:
            setattr(queue, name, value)
    return _members(members) if members is not None else None


@tenant_service
def queue_create(*, actor, tenant, number: str, name: str, **fields: Any) -> Queue:
    check_fields(fields, QUEUE_FIELDS)
    number = validate_internal_number(number)
    advisory_lock("number_plan", tenant.schema_name)
    check_limit(tenant, current=Queue.objects.count(), adding=1, limit=tenant.max_queues, noun="queues",
                field="number")
    ensure_number_free(number)
    queue = Queue(number=number)
    members = _apply_queue(queue, tenant, {"name": name, **fields})
    clean(queue)
    save(queue)
    _set_members(queue, members or [])
    record_created(actor=actor, tenant=tenant, instance=queue, prefix=QUEUE_PREFIX, payload=queue_payload(queue))
    return queue


@tenant_service
def queue_update(*, actor, tenant, instance: Queue, **fields: Any) -> Queue:
    check_fields(fields, QUEUE_FIELDS | {"number"})
    before = snapshot(instance)
    change_number(instance, tenant, fields)
    members = _apply_queue(instance, tenant, fields)
    clean(instance)
    save(instance)
    if members is not None:
        _set_members(instance, members)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=QUEUE_PREFIX,
                   payload=queue_payload(instance))
    return instance


@tenant_service
def queue_delete(*, actor, tenant, instance: Queue) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=QUEUE_PREFIX, payload=queue_payload(instance))


# --- agents ------------------------------------------------------------------------------------
def agent_payload(agent: Agent) -> dict[str, Any]:
    return {"id": agent.pk, "name": agent.name, "extension": agent.extension_id, "state": agent.state,
            "pause_reason": agent.pause_reason,
            "state_changed_at": agent.state_changed_at.isoformat() if agent.state_changed_at else None}


def _apply_agent(agent: Agent, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "extension":
            value = resolve_one(Extension, value, field="extension", required=False)
            if value is not None and Agent.objects.filter(extension=value).exclude(pk=agent.pk).exists():
                raise Conflict(f"Extension {value.number} already belongs to another agent.", code="duplicate",
                               field="extension")
        if name == "login_code":
            value = str(value)
            if not value.isdigit() or not 2 <= len(value) <= 10:
                raise Invalid("The login code is 2 to 10 digits.", field="login_code")
            if Agent.objects.filter(login_code=value).exclude(pk=agent.pk).exists():
                raise Conflict("Another agent uses this login code.", code="duplicate", field="login_code")
        if name == "state" and value != agent.state:
            agent.state_changed_at = timezone.now()
        setattr(agent, name, value)
    if agent.state != Agent.State.PAUSED:
        agent.pause_reason = ""


def _log_state(agent: Agent, actor, previous_state: str | None, previous_reason: str,
               previous_extension_id: int | None = None) -> None:
    # The state history behind agent statistics (logged-in and pause time) lives in apps.reports;
    # it is written here, in the service's transaction, so no state change escapes it. Reports
    # decides what counts as a change; telephony only hands over before and after.
    from apps.reports.agent_log import agent_state_record

    source = "pbx" if actor.kind == "system" and actor.label == "pbx" else ("system" if actor.kind == "system" else "api")
    agent_state_record(agent=agent, previous_state=previous_state, previous_reason=previous_reason,
                       previous_extension_id=previous_extension_id, source=source)


@tenant_service
def agent_create(*, actor, tenant, name: str, login_code: str, **fields: Any) -> Agent:
    check_fields(fields, AGENT_FIELDS)
    agent = Agent(name=name)
    _apply_agent(agent, {"login_code": login_code, **fields})
    clean(agent)
    save(agent, field="login_code")
    _log_state(agent, actor, None, "")
    record_created(actor=actor, tenant=tenant, instance=agent, prefix=AGENT_PREFIX, payload=agent_payload(agent))
    return agent


@tenant_service
def agent_update(*, actor, tenant, instance: Agent, **fields: Any) -> Agent:
    check_fields(fields, AGENT_FIELDS | {"name"})
    before = snapshot(instance)
    was = (instance.state, instance.pause_reason, instance.extension_id)
    _apply_agent(instance, fields)
    clean(instance)
    save(instance, field="login_code")
    _log_state(instance, actor, *was)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=AGENT_PREFIX,
                   payload=agent_payload(instance))
    return instance


def agent_set_state(*, actor, tenant, instance: Agent, state: str, pause_reason: str = "") -> Agent:
    """Log in / log out / pause an agent (used by the API and by contact-center AMI handling)."""
    if state not in Agent.State.values:
        raise DomainError(f"Unknown agent state {state!r}.", code="validation_error", field="state")
    return agent_update(actor=actor, tenant=tenant, instance=instance, state=state, pause_reason=pause_reason)


@tenant_service
def agent_delete(*, actor, tenant, instance: Agent) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=AGENT_PREFIX, payload=agent_payload(instance))
