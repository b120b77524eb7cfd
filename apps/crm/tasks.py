from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context


@shared_task(name="crm.run_import", ignore_result=True, acks_late=True)
def run_import(tenant_id: int, job_id: int) -> None:
    """Run one contact import (ids, not objects: the job row has everything)."""
    from apps.crm.imports import import_run
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        import_run(tenant=tenant, job_id=job_id)


@shared_task(name="crm.run_preview", ignore_result=True, acks_late=True)
def run_preview(tenant_id: int, job_id: int, token: str) -> None:
    """Preview a big file (the token names the request; a superseded one does nothing)."""
    from apps.crm.imports import import_preview_run
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with tenant_context(tenant):
        import_preview_run(tenant=tenant, job_id=job_id, token=token)


@shared_task(name="crm.purge_import_files", ignore_result=True)
def purge_import_files() -> int:
    """Drop stored upload files past retention (drafts after a day); the job rows stay."""
    from apps.crm.models import ImportFileChunk, ImportJob
    from apps.tenants.models import Tenant

    keep_days = getattr(settings, "CRM_IMPORT_FILE_RETENTION_DAYS", 30)
    now = timezone.now()
    removed = 0
    for tenant in Tenant.objects.all().iterator():
        with tenant_context(tenant):
            old = ImportJob.objects.filter(finished_at__lt=now - dt.timedelta(days=keep_days))
            removed += ImportFileChunk.objects.filter(job__in=old).delete()[0]
            removed += ImportJob.objects.filter(status=ImportJob.Status.DRAFT,
                                                created_at__lt=now - dt.timedelta(days=1)).delete()[0]
    return removed
