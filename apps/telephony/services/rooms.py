"""Conferences (ConfBridge rooms), parking lots and paging groups: numbered features of the
tenant's internal number plan."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import Conference, Extension, PagingGroup, PagingMember, ParkingLot
from apps.telephony.selectors import NUMBERED, in_slots
from apps.telephony.services.common import (
    advisory_lock, check_fields, clean, delete, record_created, record_updated, resolve_ids, save, tenant_service,
    unique_name,
)
from apps.telephony.services.extensions import change_number
from apps.telephony.validators import validate_internal_number, validate_text, validate_token
from thirdlane.api.errors import Conflict, DomainError, Invalid

MAX_SLOTS = 100
MAX_PAGING_MEMBERS = 100


# --- conferences ---------------------------------------------------------------------------------
CONFERENCE_PREFIX = "config.conference"
CONFERENCE_FIELDS = {"number", "name", "pin", "admin_pin", "max_members", "record", "music_when_alone",
                     "music_class", "announce_join_leave", "wait_for_admin"}


def conference_payload(c: Conference) -> dict[str, Any]:
    return {"id": c.pk, "number": c.number, "name": c.name, "has_pin": bool(c.pin), "has_admin_pin": bool(c.admin_pin),
            "max_members": c.max_members, "record": c.record, "music_when_alone": c.music_when_alone,
            "wait_for_admin": c.wait_for_admin}


def _pin(value, field: str) -> str:
    value = "" if value is None else str(value)
    if value and (not value.isdigit() or not 3 <= len(value) <= 10):
        raise Invalid("A PIN is 3 to 10 digits (or empty for none).", field=field)
    return value


def _apply_conference(c: Conference, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name in ("pin", "admin_pin"):
            value = _pin(value, name)
        elif name == "music_class":
            value = validate_token(value, field=name)
        elif name == "name":
            value = validate_text(value, field=name)
        setattr(c, name, value)
    if c.admin_pin and c.admin_pin == c.pin:
        raise Invalid("The admin PIN must differ from the PIN.", field="admin_pin")
    if c.wait_for_admin and not c.admin_pin:
        raise Invalid("Waiting for the administrator needs an admin PIN.", field="admin_pin")


@tenant_service
def conference_create(*, actor, tenant, number: str, name: str, **fields: Any) -> Conference:
    check_fields(fields, CONFERENCE_FIELDS)
    c = Conference()
    change_number(c, tenant, {"number": number})
    _apply_conference(c, {"name": name, **fields})
    clean(c)
    save(c, field="number")
    record_created(actor=actor, tenant=tenant, instance=c, prefix=CONFERENCE_PREFIX, payload=conference_payload(c))
    return c


@tenant_service
def conference_update(*, actor, tenant, instance: Conference, **fields: Any) -> Conference:
    check_fields(fields, CONFERENCE_FIELDS)
    before = snapshot(instance)
    change_number(instance, tenant, fields)
    for secret in ("pin", "admin_pin"):
        if fields.get(secret) is None:
            fields.pop(secret, None)  # absent or null: keep (write-only); "" clears it
    _apply_conference(instance, fields)
    clean(instance)
    save(instance, field="number")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=CONFERENCE_PREFIX,
                   payload=conference_payload(instance))
    return instance


@tenant_service
def conference_delete(*, actor, tenant, instance: Conference) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=CONFERENCE_PREFIX,
           payload=conference_payload(instance))


# --- parking lots --------------------------------------------------------------------------------
PARKING_PREFIX = "config.parking_lot"
PARKING_FIELDS = {"name", "number", "slot_start", "slot_end", "timeout", "music_class"}


def parking_lot_payload(lot: ParkingLot) -> dict[str, Any]:
    return {"id": lot.pk, "name": lot.name, "number": lot.number, "slot_start": lot.slot_start,
            "slot_end": lot.slot_end, "timeout": lot.timeout}


def _check_slots(lot: ParkingLot, tenant, *, changed: bool) -> None:
    start = validate_internal_number(lot.slot_start, field="slot_start")
    end = validate_internal_number(lot.slot_end, field="slot_end")
    if len(start) != len(end) or int(end) < int(start):
        raise DomainError("slot_end must have as many digits as slot_start and not be lower.", code="invalid_range",
                          field="slot_end")
    if int(end) - int(start) + 1 > MAX_SLOTS:
        raise DomainError(f"At most {MAX_SLOTS} slots per lot.", code="invalid_range", field="slot_end")
    if in_slots(lot, lot.number):
        raise DomainError("The park extension cannot be one of the slots.", code="invalid_range", field="number")
    if not changed:
        return
    advisory_lock("number_plan", tenant.schema_name)
    for model, label in NUMBERED:
        qs = model.objects.filter(number__regex=rf"^[0-9]{{{len(start)}}}$").values_list("pk", "number")
        for pk, number in qs:
            if isinstance(lot, model) and pk == lot.pk:
                continue
            if int(start) <= int(number) <= int(end):
                raise Conflict(f"Slot {number} is already used by {label} {number}.", code="duplicate_number",
                               field="slot_start")
    for other in ParkingLot.objects.exclude(pk=lot.pk):
        if len(other.slot_start) == len(start) and not (int(end) < int(other.slot_start)
                                                         or int(start) > int(other.slot_end)):
            raise Conflict(f"Slots overlap parking lot {other}.", code="duplicate_number", field="slot_start")


def _apply_lot(lot: ParkingLot, tenant, fields: dict[str, Any]) -> None:
    changed = any(k in fields for k in ("slot_start", "slot_end")) or lot.pk is None
    change_number(lot, tenant, fields)
    for name, value in fields.items():
        if name == "name":
            value = validate_text(value, field=name)
            unique_name(ParkingLot, value, lot)
        elif name == "music_class":
            value = validate_token(value, field=name)
        setattr(lot, name, str(value) if name in ("slot_start", "slot_end") else value)
    _check_slots(lot, tenant, changed=changed)


@tenant_service
def parking_lot_create(*, actor, tenant, name: str, number: str, slot_start: str, slot_end: str,
                       **fields: Any) -> ParkingLot:
    check_fields(fields, PARKING_FIELDS)
    lot = ParkingLot()
    _apply_lot(lot, tenant, {"number": number, "name": name, "slot_start": slot_start, "slot_end": slot_end,
                             **fields})
    clean(lot)
    save(lot, field="number")
    record_created(actor=actor, tenant=tenant, instance=lot, prefix=PARKING_PREFIX, payload=parking_lot_payload(lot))
    return lot


@tenant_service
def parking_lot_update(*, actor, tenant, instance: ParkingLot, **fields: Any) -> ParkingLot:
    check_fields(fields, PARKING_FIELDS)
    before = snapshot(instance)
    _apply_lot(instance, tenant, fields)
    clean(instance)
    save(instance, field="number")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PARKING_PREFIX,
                   payload=parking_lot_payload(instance))
    return instance


@tenant_service
def parking_lot_delete(*, actor, tenant, instance: ParkingLot) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PARKING_PREFIX, payload=parking_lot_payload(instance))


# --- paging groups -------------------------------------------------------------------------------
PAGING_PREFIX = "config.paging_group"
PAGING_FIELDS = {"number", "name", "duplex", "timeout", "members"}


def paging_group_payload(group: PagingGroup) -> dict[str, Any]:
    return {"id": group.pk, "number": group.number, "name": group.name, "duplex": group.duplex,
            "timeout": group.timeout, "members": sorted(m.extension_id for m in group.members.all())}


def _apply_paging(group: PagingGroup, tenant, fields: dict[str, Any]) -> list[Extension] | None:
    members = fields.pop("members", None)
    change_number(group, tenant, fields)
    for name, value in fields.items():
        if name == "name":
            value = validate_text(value, field=name)
        setattr(group, name, value)
    if members is None:
        return None
    if not isinstance(members, (list, tuple)) or len(members) > MAX_PAGING_MEMBERS:
        raise Invalid(f"A list of at most {MAX_PAGING_MEMBERS} extension ids.", field="members")
    found = resolve_ids(Extension, list(members), field="members")
    if len(found) != len(members):
        raise Conflict("An extension is listed twice.", code="duplicate", field="members")
    return list(found.values())


def _set_paging(group: PagingGroup, extensions: list[Extension] | None) -> None:
    if extensions is None:
        return
    group.members.all().delete()
    PagingMember.objects.bulk_create([PagingMember(group=group, extension=e) for e in extensions])
    if hasattr(group, "_prefetched_objects_cache"):
        group._prefetched_objects_cache.pop("members", None)


@tenant_service
def paging_group_create(*, actor, tenant, number: str, name: str, **fields: Any) -> PagingGroup:
    check_fields(fields, PAGING_FIELDS)
    group = PagingGroup()
    members = _apply_paging(group, tenant, {"number": number, "name": name, **fields})
    clean(group)
    save(group, field="number")
    _set_paging(group, members or [])
    record_created(actor=actor, tenant=tenant, instance=group, prefix=PAGING_PREFIX,
                   payload=paging_group_payload(group))
    return group


@tenant_service
def paging_group_update(*, actor, tenant, instance: PagingGroup, **fields: Any) -> PagingGroup:
    check_fields(fields, PAGING_FIELDS)
    before = snapshot(instance)
    members = _apply_paging(instance, tenant, fields)
    clean(instance)
    save(instance, field="number")
    _set_paging(instance, members)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PAGING_PREFIX,
                   payload=paging_group_payload(instance))
    return instance


@tenant_service
def paging_group_delete(*, actor, tenant, instance: PagingGroup) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PAGING_PREFIX, payload=paging_group_payload(instance))
