"""Call-control tasks: each takes ids, loads the job in its tenant's schema and owns its retries."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> float:
    base = float(settings.CALL_CONTROL_RETRY_BASE)
    delay = base * (2 ** retries)
    return round(delay + random.uniform(0, delay * 0.1), 3)


def _finish(job_id: int, outcome) -> None:
    from apps.calls.models import CallControlJob

    CallControlJob.objects.filter(pk=job_id).update(
        status=CallControlJob.Status.SUCCEEDED if outcome.ok else CallControlJob.Status.FAILED,
        error_code=outcome.code, error_message=outcome.message[:500], result=outcome.result,
        ami_response=outcome.ami, finished_at=timezone.now(), updated_at=timezone.now())


@shared_task(bind=True, name="calls.run_control_job", max_retries=None, ignore_result=True)
def run_control_job(self, job_id: int, tenant_id: int) -> str:
    """Send job ``job_id``'s AMI action to its server and record the outcome. Retries with
    backoff while nothing could be sent (CALL_CONTROL_MAX_RETRIES), then fails ``pbx_unreachable``."""
    from django_tenants.utils import schema_context

    from apps.calls import control_ami
    from apps.calls.models import CallControlJob
    from apps.pbx.apply import ami_timeout
    from apps.pbx.models import Server
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "gone"
    with schema_context(tenant.schema_name):
        # Claim it: a second delivery of the same message finds it running (or done) and leaves it.
        now = timezone.now()
        claimed = CallControlJob.objects.filter(pk=job_id, status=CallControlJob.Status.QUEUED).update(
            status=CallControlJob.Status.RUNNING, attempts=F("attempts") + 1,
            started_at=Coalesce(F("started_at"), Value(now)), updated_at=now)
        if not claimed:
            return "not queued"
        job = CallControlJob.objects.get(pk=job_id)
        server = Server.objects.filter(pk=job.server_id).first()
        if server is None:
            _finish(job.pk, control_ami.Outcome(False, "pbx_unreachable", "The PBX server no longer exists."))
            return "failed"
        try:
            outcome = control_ami.execute(server, control_ami.plan(job, tenant.slug), timeout=ami_timeout())
        except control_ami.Unreachable as exc:
            if self.request.retries >= int(settings.CALL_CONTROL_MAX_RETRIES):
                _finish(job.pk, control_ami.Outcome(False, "pbx_unreachable",
                                                    f"Gave up after {job.attempts} attempts: {exc}"))
                return "failed"
            delay = retry_delay(self.request.retries)
            CallControlJob.objects.filter(pk=job.pk).update(
                status=CallControlJob.Status.QUEUED, updated_at=timezone.now(),
                error_message=f"Attempt {job.attempts}: {exc}; retrying in {delay:.1f}s"[:500])
            logger.warning("call-control job %s (%s): %s; retrying in %.1fs", job.pk, tenant.slug, exc, delay)
            raise self.retry(countdown=delay, max_retries=None)
        except Exception as exc:  # a bug must not leave the job running
            logger.exception("call-control job %s (%s) failed", job.pk, tenant.slug)
            outcome = control_ami.Outcome(False, "internal_error", f"Internal error ({type(exc).__name__}).")
        _finish(job.pk, outcome)
        return "succeeded" if outcome.ok else "failed"


@shared_task(name="calls.expire_control_jobs", ignore_result=True)
def expire_control_jobs() -> int:
    """Beat: fail jobs that waited too long (the broker was down, a worker died mid-job). A late
    click-to-call is worse than none, so they are not sent again."""
    from django_tenants.utils import schema_context

    from apps.calls.models import CallControlJob
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    expire = int(settings.CALL_CONTROL_EXPIRE)
    now = timezone.now()
    queued_before = now - timedelta(seconds=expire)
    running_before = now - timedelta(seconds=expire + 300)  # ring time and AMI waits included
    expired = 0
    fields = dict(status=CallControlJob.Status.FAILED, error_code="expired", finished_at=now, updated_at=now,
                  error_message="The job was not carried out in time and was dropped.")
    for schema in Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema):
            jobs = CallControlJob.objects
            # One conditional UPDATE each: a job a worker claims meanwhile is no longer matched.
            expired += jobs.filter(status=CallControlJob.Status.QUEUED, created_at__lt=queued_before).update(**fields)
            expired += jobs.filter(status=CallControlJob.Status.RUNNING, started_at__lt=running_before).update(**fields)
    return expired
