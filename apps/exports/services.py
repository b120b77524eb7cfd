"""Writes to export schedules (API and admin), and "run now"."""
from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.exports import cron, destinations
from apps.exports.models import ExportRun, ExportSchedule
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import check_fields, clean, delete as kernel_delete, record_created, record_updated
from apps.audit.services import snapshot

FIELDS = {"name", "reseller", "tenant", "dataset", "format", "cron", "timezone", "destination_type", "destination",
          "secret", "enabled", "max_attempts"}


def _validate(schedule: ExportSchedule) -> None:
    if schedule.tenant_id and schedule.tenant.reseller_id != schedule.reseller_id:
        raise Invalid("The tenant belongs to another reseller.", field="tenant")
    cron.validate(schedule.cron, schedule.timezone)
    try:
        schedule.destination = destinations.validate(schedule.destination_type, schedule.destination or {},
                                                     schedule.secret or "")
    except destinations.DestinationInvalid as exc:
        raise DomainError(str(exc), code="invalid_destination_settings", field=exc.field) from None
    clean(schedule, exclude=["cursors"])


def _apply(schedule: ExportSchedule, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "secret" and not value:
            continue  # empty keeps the stored secret
        setattr(schedule, name, value)
    if schedule.reseller_id is None and schedule.tenant_id:
        schedule.reseller_id = schedule.tenant.reseller_id


@transaction.atomic
def schedule_create(*, actor, name: str, destination_type: str, **fields: Any) -> ExportSchedule:
    check_fields(fields, FIELDS)
    schedule = ExportSchedule(name=name, destination_type=destination_type,
                              created_by=getattr(actor, "label", "") or str(actor)[:150])
    _apply(schedule, fields)
    if schedule.reseller_id is None:
        raise Invalid("The reseller is required (or a tenant).", field="reseller")
    _validate(schedule)
    schedule.next_run_at = cron.next_run(schedule.cron, schedule.timezone, timezone.now())
    schedule.save()
    record_created(actor=actor, instance=schedule, reseller_id=schedule.reseller_id)
    return schedule


@transaction.atomic
def schedule_update(*, actor, instance: ExportSchedule, **fields: Any) -> ExportSchedule:
    check_fields(fields, FIELDS)
    before = snapshot(instance)
    _apply(instance, fields)
    _validate(instance)
    if {"cron", "timezone", "enabled"} & set(fields):
        instance.next_run_at = cron.next_run(instance.cron, instance.timezone, timezone.now())
    instance.save()
    record_updated(actor=actor, instance=instance, before=before, reseller_id=instance.reseller_id)
    return instance


@transaction.atomic
def schedule_delete(*, actor, instance: ExportSchedule) -> None:
    kernel_delete(actor=actor, instance=instance, reseller_id=instance.reseller_id)


@transaction.atomic
def run_now(*, actor, schedule: ExportSchedule) -> ExportRun:
    """A run outside the schedule: exports what the next scheduled run would, and moves the cursor
    the same way. One open run per schedule (409 ``export_running``)."""
    from apps.exports.tasks import enqueue

    try:
        with transaction.atomic():
            run = ExportRun.objects.create(schedule=schedule, trigger=ExportRun.Trigger.MANUAL,
                                           requested_by=getattr(actor, "label", "") or str(actor)[:150])
    except IntegrityError:
        raise Conflict("The schedule has a run in progress; wait for it (see its runs).", code="export_running",
                       field="schedule") from None
    enqueue(run)
    return run
