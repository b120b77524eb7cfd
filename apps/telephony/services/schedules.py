"""Schedules (weekly ranges and holidays) and time conditions, with the loop check."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from apps.audit.services import snapshot
from apps.telephony.destinations import Destination, DestType
from apps.telephony.models import HolidayRange, Schedule, TimeCondition, WeeklyRange
from apps.telephony.services.common import (
    check_fields, clean, delete, record_created, record_updated, resolve_one, save, tenant_service, unique_name,
)
from apps.telephony.validators import validate_destination
from thirdlane.api.errors import DomainError, Invalid

SCHEDULE_PREFIX = "config.schedule"
TC_PREFIX = "config.time_condition"
SCHEDULE_FIELDS = {"timezone", "description", "weekly_ranges", "holidays"}
TC_FIELDS = {"schedule", "match", "no_match", "override"}


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def schedule_payload(schedule: Schedule) -> dict[str, Any]:
    return {"id": schedule.pk, "name": schedule.name, "timezone": schedule.timezone,
            "weekly_ranges": [{"day_of_week": r.day_of_week, "start_time": _iso(r.start_time),
                               "end_time": _iso(r.end_time)} for r in schedule.weekly_ranges.all()],
            "holidays": [{"name": h.name, "start_date": _iso(h.start_date), "end_date": _iso(h.end_date)}
                         for h in schedule.holidays.all()]}


def _weekly(raw: list[dict]) -> list[WeeklyRange]:
    out = []
    for i, row in enumerate(raw):
        item = WeeklyRange(day_of_week=row.get("day_of_week"), start_time=row.get("start_time"),
                           end_time=row.get("end_time"))
        clean(item, prefix=f"weekly_ranges[{i}]", exclude=["schedule"])
        if not isinstance(item.start_time, dt.time) or not isinstance(item.end_time, dt.time):
            item.start_time, item.end_time = (WeeklyRange._meta.get_field(f).to_python(getattr(item, f))
                                              for f in ("start_time", "end_time"))
        if item.end_time <= item.start_time:
            raise DomainError("end_time must be after start_time.", code="invalid_range",
                              field=f"weekly_ranges[{i}].end_time")
        out.append(item)
    return out


def _holidays(raw: list[dict]) -> list[HolidayRange]:
    out = []
    for i, row in enumerate(raw):
        item = HolidayRange(name=row.get("name", ""), start_date=row.get("start_date"),
                            end_date=row.get("end_date") or row.get("start_date"))
        clean(item, prefix=f"holidays[{i}]", exclude=["schedule"])
        item.start_date, item.end_date = (HolidayRange._meta.get_field(f).to_python(getattr(item, f))
                                          for f in ("start_date", "end_date"))
        if item.end_date < item.start_date:
            raise DomainError("end_date must not be before start_date.", code="invalid_range",
                              field=f"holidays[{i}].end_date")
        out.append(item)
    return out


def _apply_schedule(schedule: Schedule, fields: dict[str, Any]):
    weekly, holidays = fields.pop("weekly_ranges", None), fields.pop("holidays", None)
    for name, value in fields.items():
        if name == "timezone":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise Invalid(f"Unknown time zone {value!r}.", field="timezone") from None
        setattr(schedule, name, value)
    return (_weekly(weekly) if weekly is not None else None,
            _holidays(holidays) if holidays is not None else None)


def _set_ranges(schedule: Schedule, weekly, holidays) -> None:
    cache = getattr(schedule, "_prefetched_objects_cache", {})
    if weekly is not None:
        schedule.weekly_ranges.all().delete()
        for item in weekly:
            item.schedule = schedule
        WeeklyRange.objects.bulk_create(weekly)
        cache.pop("weekly_ranges", None)
    if holidays is not None:
        schedule.holidays.all().delete()
        for item in holidays:
            item.schedule = schedule
        HolidayRange.objects.bulk_create(holidays)
        cache.pop("holidays", None)


@tenant_service
def schedule_create(*, actor, tenant, name: str, **fields: Any) -> Schedule:
    check_fields(fields, SCHEDULE_FIELDS)
    unique_name(Schedule, name)
    schedule = Schedule(name=name, timezone=tenant.timezone or "UTC")
    weekly, holidays = _apply_schedule(schedule, fields)
    clean(schedule)
    save(schedule, field="name")
    _set_ranges(schedule, weekly or [], holidays or [])
    record_created(actor=actor, tenant=tenant, instance=schedule, prefix=SCHEDULE_PREFIX,
                   payload=schedule_payload(schedule))
    return schedule


@tenant_service
def schedule_update(*, actor, tenant, instance: Schedule, **fields: Any) -> Schedule:
    check_fields(fields, SCHEDULE_FIELDS | {"name"})
    before = snapshot(instance)
    if "name" in fields:
        unique_name(Schedule, fields["name"], instance)
    weekly, holidays = _apply_schedule(instance, fields)
    clean(instance)
    save(instance, field="name")
    _set_ranges(instance, weekly, holidays)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=SCHEDULE_PREFIX,
                   payload=schedule_payload(instance))
    return instance


@tenant_service
def schedule_delete(*, actor, tenant, instance: Schedule) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=SCHEDULE_PREFIX,
           payload=schedule_payload(instance))


# --- time conditions ---------------------------------------------------------------------------
def time_condition_payload(tc: TimeCondition) -> dict[str, Any]:
    return {"id": tc.pk, "name": tc.name, "schedule": tc.schedule_id, "override": tc.override,
            "match_destination": tc.match.as_dict(), "no_match_destination": tc.no_match.as_dict()}


def _tc_targets(dest: Destination) -> set[int]:
    return {dest.id} if dest.type == DestType.TIME_CONDITION and dest.id is not None else set()


def check_time_condition_loop(tc: TimeCondition) -> None:
    """Refuse destinations through which ``tc`` reaches itself via other time conditions.

    Only time condition -> time condition edges can loop without a caller's action (an IVR waits
    for a digit, a queue for an agent), so the graph is the tenant's time conditions.
    """
    graph: dict[int, set[int]] = {}
    for pk, mt, mi, nt, ni in TimeCondition.objects.values_list("pk", "match_type", "match_id", "no_match_type",
                                                                "no_match_id"):
        graph[pk] = _tc_targets(Destination(mt, mi)) | _tc_targets(Destination(nt, ni))
    for attr, field in (("match", "match_destination"), ("no_match", "no_match_destination")):
        start = _tc_targets(getattr(tc, attr))
        if tc.pk is None:
            continue  # nothing can point at a time condition that does not exist yet
        graph[tc.pk] = _tc_targets(tc.match) | _tc_targets(tc.no_match)
        stack, seen = list(start), set()
        while stack:
            node = stack.pop()
            if node == tc.pk:
                raise DomainError(f"Through {field}, time condition {tc.name} would route back to itself.",
                                  code="destination_loop", field=field)
            if node in seen:
                continue
            seen.add(node)
            stack.extend(graph.get(node, ()))


def _apply_tc(tc: TimeCondition, tenant, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "schedule":
            tc.schedule = resolve_one(Schedule, value, field="schedule")
        elif name == "match":
            tc.match = validate_destination(tenant, value, field="match_destination")
        elif name == "no_match":
            tc.no_match = validate_destination(tenant, value, field="no_match_destination")
        elif name == "override":
            if value not in TimeCondition.Override.values:
                raise Invalid(f"override is one of {', '.join(TimeCondition.Override.values)}.", field="override")
            if value != tc.override:
                tc.override_changed_at = timezone.now()
            tc.override = value
        else:
            setattr(tc, name, value)
    check_time_condition_loop(tc)


@tenant_service
def time_condition_create(*, actor, tenant, name: str, schedule, **fields: Any) -> TimeCondition:
    check_fields(fields, TC_FIELDS)
    unique_name(TimeCondition, name)
    tc = TimeCondition(name=name)
    _apply_tc(tc, tenant, {"schedule": schedule, **fields})
    clean(tc)
    save(tc, field="name")
    record_created(actor=actor, tenant=tenant, instance=tc, prefix=TC_PREFIX, payload=time_condition_payload(tc))
    return tc


@tenant_service
def time_condition_update(*, actor, tenant, instance: TimeCondition, **fields: Any) -> TimeCondition:
    check_fields(fields, TC_FIELDS | {"name"})
    before = snapshot(instance)
    if "name" in fields:
        unique_name(TimeCondition, fields["name"], instance)
    _apply_tc(instance, tenant, fields)
    clean(instance)
    save(instance, field="name")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=TC_PREFIX,
                   payload=time_condition_payload(instance))
    return instance


def time_condition_set_override(*, actor, tenant, instance: TimeCondition, mode: str) -> TimeCondition:
    return time_condition_update(actor=actor, tenant=tenant, instance=instance, override=mode)


@tenant_service
def time_condition_delete(*, actor, tenant, instance: TimeCondition) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=TC_PREFIX, payload=time_condition_payload(instance))
