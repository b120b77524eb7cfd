"""One export run, start to end: fix its range, write its file, deliver it, move the cursor.

The range (CDR ids per tenant, or a statistics period) and the file name are saved on the run
before anything is written, so a retry or a run resumed after a worker died exports exactly the
same rows under the same name. The schedule's cursors move in the same transaction that marks
the run succeeded, and only then: a destination that fails leaves them where they were.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone as djtz

from apps.events.services import emit_event
from apps.exports import datasets, destinations
from apps.exports.models import ExportRun, ExportSchedule
from apps.tenants.models import Tenant

logger = logging.getLogger(__name__)


class RunBusy(Exception):
    """Another worker is running this run right now."""


def scope_tenants(schedule: ExportSchedule) -> list[Tenant]:
    tenants = Tenant.objects.filter(pk=schedule.tenant_id) if schedule.tenant_id else \
        Tenant.objects.filter(reseller_id=schedule.reseller_id)
    return list(tenants.order_by("slug"))


def files_dir() -> Path:
    path = Path(settings.EXPORT_FILES_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _claim(run_id: int) -> ExportRun | None:
    stale = djtz.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    with transaction.atomic():
        run = ExportRun.objects.select_for_update().select_related("schedule").filter(pk=run_id).first()
        if run is None or run.finished:
            return None
        if run.status == ExportRun.Status.RUNNING and run.heartbeat_at and run.heartbeat_at > stale:
            raise RunBusy(run_id)
        now = djtz.now()
        run.status, run.started_at, run.heartbeat_at = ExportRun.Status.RUNNING, run.started_at or now, now
        run.attempts = F("attempts") + 1
        run.save(update_fields=["status", "started_at", "heartbeat_at", "attempts"])
        run.refresh_from_db()
        return run


def _plan(run: ExportRun, tenants: list[Tenant]) -> None:
    """Fix the run's range and file name, once (a retried or resumed run keeps them)."""
    if run.file_name:
        return
    schedule = run.schedule
    stamp = djtz.now().strftime("%Y%m%dT%H%M%SZ")
    scope = schedule.tenant.slug if schedule.tenant_id else schedule.reseller.slug
    run.file_name = f"{schedule.dataset.replace('_', '-')}-{scope}-{run.pk}-{stamp}.{schedule.format}"
    if schedule.dataset == ExportSchedule.Dataset.CDRS:
        run.cursor_from = {str(t.pk): int(schedule.cursors.get(str(t.pk), 0)) for t in tenants}
        run.cursor_to, run.rows = datasets.cdr_bounds(tenants, run.cursor_from)
    else:
        end = djtz.now().replace(minute=0, second=0, microsecond=0)
        last = schedule.cursors.get("period_end")
        start = datetime.fromisoformat(last) if last else end - timedelta(days=1)
        run.period_start, run.period_end = start, max(start, end)
        run.cursor_from, run.cursor_to = {"period_end": last}, {"period_end": run.period_end.isoformat()}
    run.save(update_fields=["file_name", "cursor_from", "cursor_to", "rows", "period_start", "period_end"])


def _progress(run: ExportRun, percent: int, stage: str = "writing") -> None:
    ExportRun.objects.filter(pk=run.pk).update(progress=percent, stage=stage, heartbeat_at=djtz.now())


class ProgressReporter:
    """Progress (and the heartbeat) while COPY holds the worker's connection: a thread with its own
    database connection writes the latest percentage once a second."""

    def __init__(self, run: ExportRun, interval: float = 1.0):
        self.run, self.interval = run, interval
        self.percent, self.written = 0, -1
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"export-progress-{run.pk}", daemon=True)

    def __call__(self, percent: int) -> None:
        self.percent = percent

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _loop(self) -> None:
        from django.db import connection

        try:
            while not self.stop.wait(self.interval):
                if self.percent != self.written:
                    _progress(self.run, self.percent)
                    self.written = self.percent
        finally:
            connection.close()


def _write(run: ExportRun, tenants: list[Tenant]) -> datasets.Written:
    schedule = run.schedule
    folder = files_dir() / str(schedule.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / run.file_name
    partial = folder / f".{run.file_name}.part"
    if schedule.dataset == ExportSchedule.Dataset.CDRS:
        with ProgressReporter(run) as reporter:
            written = datasets.write_cdrs(str(partial), tenants, run.cursor_from, run.cursor_to, schedule.format,
                                          run.rows, reporter)
    else:
        written = datasets.write_rows(str(partial), _statistics(schedule, tenants, run), schedule.format)
    os.replace(partial, path)
    run.file_path, run.rows, run.bytes, run.sha256 = str(path), written.rows, written.bytes, written.sha256
    run.stage = "delivering"
    run.save(update_fields=["file_path", "rows", "bytes", "sha256", "stage"])
    return written


def _statistics(schedule: ExportSchedule, tenants: list[Tenant], run: ExportRun) -> list[dict]:
    from django_tenants.utils import tenant_context

    from apps.reports import datasets as reports

    fetch = reports.agent_stats_rows if schedule.dataset == ExportSchedule.Dataset.AGENT_STATS else \
        reports.call_counter_rows
    rows: list[dict] = []
    for tenant in tenants:
        with tenant_context(tenant):
            for row in fetch(tenant, start=run.period_start, end=run.period_end, interval="day",
                             tz=schedule.timezone):
                rows.append({"tenant": tenant.slug, **row})
    return rows


def payload(run: ExportRun, delivered_to: str = "") -> dict:
    schedule = run.schedule
    return {"run_id": run.pk, "schedule_id": schedule.pk, "schedule": schedule.name, "dataset": schedule.dataset,
            "format": schedule.format, "status": run.status, "trigger": run.trigger, "rows": run.rows,
            "bytes": run.bytes, "sha256": run.sha256, "file_name": run.file_name, "delivered_to": delivered_to,
            "attempts": run.attempts, "error": run.error}


def execute(run_id: int) -> ExportRun | None:
    """Do one attempt of a run. Raises ``destinations.DeliveryFailed`` when the attempt failed and
    may be retried (the caller schedules the retry); a final failure is recorded here."""
    run = _claim(run_id)
    if run is None:
        return None
    schedule = run.schedule
    tenants = scope_tenants(schedule)
    try:
        _plan(run, tenants)
        if not (run.file_path and Path(run.file_path).exists()):
            _write(run, tenants)
        _progress(run, 99, "delivering")
        where = destinations.deliver(run, schedule, run.file_path)
    except destinations.DeliveryFailed as exc:
        return _attempt_failed(run, str(exc), retry=exc.retry)
    except Exception as exc:  # noqa: BLE001 - anything else ends this attempt; the run history says why
        logger.exception("export run %s failed", run.pk)
        return _attempt_failed(run, f"{type(exc).__name__}: {exc}"[:500], retry=True)
    with transaction.atomic():
        schedule = ExportSchedule.objects.select_for_update().get(pk=schedule.pk)
        schedule.cursors = {**schedule.cursors, **run.cursor_to}
        schedule.last_success_at = djtz.now()
        schedule.save(update_fields=["cursors", "last_success_at", "updated_at"])
        run.schedule = schedule
        run.status, run.progress, run.stage, run.error = ExportRun.Status.SUCCEEDED, 100, "done", ""
        run.finished_at = djtz.now()
        run.save(update_fields=["status", "progress", "stage", "error", "finished_at"])
        emit_event(type="export.completed", data=payload(run, where), reseller_id=schedule.reseller_id)
    logger.info("export run %s delivered %s rows to %s", run.pk, run.rows, where)
    return run


class RetryLater(Exception):
    def __init__(self, run: ExportRun, countdown: float):
        super().__init__(run.error)
        self.run, self.countdown = run, countdown


def _attempt_failed(run: ExportRun, reason: str, *, retry: bool) -> ExportRun:
    run.refresh_from_db()
    run.error = reason
    if retry and run.attempts < run.schedule.max_attempts:
        run.status, run.stage = ExportRun.Status.QUEUED, "waiting to retry"
        run.save(update_fields=["error", "status", "stage"])
        raise RetryLater(run, settings.EXPORT_RETRY_BASE * (4 ** (run.attempts - 1)))
    with transaction.atomic():
        run.status, run.stage, run.finished_at = ExportRun.Status.FAILED, "failed", djtz.now()
        run.save(update_fields=["error", "status", "stage", "finished_at"])
        emit_event(type="export.failed", data=payload(run), reseller_id=run.schedule.reseller_id)
    logger.warning("export run %s failed after %s attempt(s): %s", run.pk, run.attempts, reason)
    return run


def now() -> datetime:
    return datetime.now(timezone.utc)
