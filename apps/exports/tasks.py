"""Celery tasks: ``exports.dispatch`` (beat, every minute) starts due runs and takes over runs a
worker died in; ``exports.run`` does one attempt of a run and schedules its retry."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.exports import cron, runner
from apps.exports.models import ExportRun, ExportSchedule

logger = logging.getLogger(__name__)


@shared_task(name="exports.run", ignore_result=True)
def run_export(run_id: int) -> None:
    try:
        runner.execute(run_id)
    except runner.RunBusy:
        logger.info("export run %s is running on another worker", run_id)
    except runner.RetryLater as retry:
        logger.info("export run %s: attempt %s failed (%s); retrying in %.0f s", run_id, retry.run.attempts,
                    retry.run.error, retry.countdown)
        run_export.apply_async((run_id,), countdown=retry.countdown)


def enqueue(run: ExportRun) -> None:
    transaction.on_commit(lambda: run_export.delay(run.pk))


@shared_task(name="exports.dispatch", ignore_result=True)
def dispatch() -> int:
    """Start the runs that are due; re-queue runs whose worker stopped reporting."""
    now = timezone.now()
    started = 0
    due = ExportSchedule.objects.filter(enabled=True, next_run_at__lte=now).values_list("pk", flat=True)
    for schedule_id in list(due):
        with transaction.atomic():
            schedule = ExportSchedule.objects.select_for_update(skip_locked=True).filter(
                pk=schedule_id, enabled=True, next_run_at__lte=now).first()
            if schedule is None:
                continue
            schedule.next_run_at = cron.next_run(schedule.cron, schedule.timezone, now)
            schedule.save(update_fields=["next_run_at", "updated_at"])
            if schedule.runs.filter(status__in=[ExportRun.Status.QUEUED, ExportRun.Status.RUNNING]).exists():
                continue  # the open run exports up to its own end; the next one takes the rest
            try:
                with transaction.atomic():
                    run = ExportRun.objects.create(schedule=schedule, trigger=ExportRun.Trigger.SCHEDULE)
            except IntegrityError:
                continue
            enqueue(run)
            started += 1
    stale = now - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    lost = ExportRun.objects.filter(
        Q(status=ExportRun.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(status=ExportRun.Status.QUEUED, created_at__lt=stale, heartbeat_at__isnull=True)
        | Q(status=ExportRun.Status.QUEUED, heartbeat_at__lt=stale - timedelta(
            seconds=settings.EXPORT_RETRY_BASE * 4 ** 4)))
    for run_id in lost.values_list("pk", flat=True):
        logger.warning("export run %s: its worker stopped reporting; running it again", run_id)
        run_export.delay(run_id)
    return started
