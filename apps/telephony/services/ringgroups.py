"""Ring groups: a number that rings extensions and external numbers (all at once, one after
another, or memory hunt), then sends unanswered calls to a destination."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import Extension, RingGroup, RingGroupMember
from apps.telephony.services.common import (
    advisory_lock, check_fields, clean, delete, record_created, record_updated, save, tenant_service,
)
from apps.telephony.services.extensions import change_number, ensure_number_free
from apps.telephony.validators import (
    normalize_e164, validate_destination, validate_internal_number, validate_text,
)
from thirdlane.api.errors import Conflict, DomainError, Invalid

PREFIX = "config.ring_group"
FIELDS = {"name", "strategy", "ring_time", "caller_id_prefix", "no_answer", "members"}
MEMBER_FIELDS = {"extension", "number", "delay", "ring_time"}
MAX_MEMBERS = 50


def member_payload(m: RingGroupMember) -> dict[str, Any]:
    return {"extension": m.extension_id, "number": m.number or None, "delay": m.delay, "ring_time": m.ring_time}


def ring_group_payload(group: RingGroup) -> dict[str, Any]:
    return {"id": group.pk, "number": group.number, "name": group.name, "strategy": group.strategy,
            "ring_time": group.ring_time, "no_answer_destination": group.no_answer.as_dict(),
            "members": [member_payload(m) for m in group.members.all()]}


def _members(tenant, raw: list[dict]) -> list[RingGroupMember]:
    """Each row: an extension id of this tenant or an external number (E.164), each once."""
    if len(raw) > MAX_MEMBERS:
        raise DomainError(f"At most {MAX_MEMBERS} members.", code="limit_exceeded", field="members")
    ids = []
    for i, row in enumerate(raw):
        if not isinstance(row, dict):
            raise Invalid("A member is an object.", field=f"members[{i}]")
        unknown = set(row) - MEMBER_FIELDS
        if unknown:
            raise Invalid(f"Unknown member fields: {', '.join(sorted(unknown))}.", field=f"members[{i}]")
        ext, number = row.get("extension"), row.get("number") or ""
        if (ext is None) == (not number):
            raise Invalid("A member is an extension or an external number (exactly one).", field=f"members[{i}]")
        if ext is not None:
            try:
                ids.append(int(getattr(ext, "pk", ext)))
            except (TypeError, ValueError):
                raise Invalid("extension must be an id.", field=f"members[{i}].extension") from None
    found = Extension.objects.in_bulk(ids)
    members, seen = [], {}
    for i, row in enumerate(raw):
        ext = row.get("extension")
        member = RingGroupMember(position=i, delay=row.get("delay", 0) if row.get("delay") is not None else 0,
                                 ring_time=row.get("ring_time") or 20)
        if ext is not None:
            member.extension = found.get(int(getattr(ext, "pk", ext)))
            if member.extension is None:
                raise DomainError(f"No extension with id {ext} in this tenant.", code="reference_not_found",
                                  field=f"members[{i}].extension")
            key = ("extension", member.extension.pk)
        else:
            member.number = normalize_e164(str(row["number"]), region=tenant.default_region,
                                           field=f"members[{i}].number")
            key = ("number", member.number)
        if key in seen:
            raise Conflict(f"The same member is listed twice (members[{seen[key]}]).", code="duplicate",
                           field=f"members[{i}]")
        seen[key] = i
        for name in ("delay", "ring_time"):
            if not isinstance(getattr(member, name), int) or isinstance(getattr(member, name), bool):
                raise Invalid(f"{name} is a number of seconds.", field=f"members[{i}].{name}")
        clean(member, prefix=f"members[{i}]", exclude=["ring_group", "extension"])
        members.append(member)
    return members


def _set_members(group: RingGroup, members: list[RingGroupMember]) -> None:
    group.members.all().delete()
    for member in members:
        member.ring_group = group
    RingGroupMember.objects.bulk_create(members)
    if hasattr(group, "_prefetched_objects_cache"):
        group._prefetched_objects_cache.pop("members", None)


def _apply(group: RingGroup, tenant, fields: dict[str, Any]) -> list[RingGroupMember] | None:
    members = fields.pop("members", None)
    for name, value in fields.items():
        if name == "no_answer":
            group.no_answer = validate_destination(tenant, value, field="no_answer_destination")
        elif name in ("name", "caller_id_prefix"):
            setattr(group, name, validate_text(value or "", field=name))
        else:
            setattr(group, name, value)
    return _members(tenant, members) if members is not None else None


@tenant_service
def ring_group_create(*, actor, tenant, number: str, name: str, **fields: Any) -> RingGroup:
    check_fields(fields, FIELDS)
    number = validate_internal_number(number)
    advisory_lock("number_plan", tenant.schema_name)
    ensure_number_free(number)
    group = RingGroup(number=number)
    fields.setdefault("no_answer", {"type": "hangup"})
    members = _apply(group, tenant, {"name": name, **fields})
    clean(group)
    save(group, field="number")
    _set_members(group, members or [])
    record_created(actor=actor, tenant=tenant, instance=group, prefix=PREFIX, payload=ring_group_payload(group))
    return group


@tenant_service
def ring_group_update(*, actor, tenant, instance: RingGroup, **fields: Any) -> RingGroup:
    check_fields(fields, FIELDS | {"number"})
    before = snapshot(instance)
    change_number(instance, tenant, fields)
    members = _apply(instance, tenant, fields)
    clean(instance)
    save(instance, field="number")
    if members is not None:
        _set_members(instance, members)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=ring_group_payload(instance))
    return instance


@tenant_service
def ring_group_delete(*, actor, tenant, instance: RingGroup) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=ring_group_payload(instance))
