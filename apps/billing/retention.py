"""Retention: CDRs and call records older than the tenant's settings are deleted in batches.

Each batch is one short transaction deleting at most ``batch`` rows by primary key (oldest first),
so a purge of millions of rows never holds a long lock, never bloats one transaction, and can be
stopped and resumed at any point. A setting of 0 keeps rows forever.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.billing.models import Cdr
from apps.calls.models import Call, CallLeg
from apps.tenants.crossschema import table
from thirdlane.batches import delete_in_batches

logger = logging.getLogger(__name__)

BATCH = 5000


@dataclass
class Purged:
    cdrs: int = 0
    calls: int = 0
    batches: int = 0


def _batches(sql: str, params: list, purged: Purged) -> int:
    deleted, batches = delete_in_batches(sql, params)
    purged.batches += batches
    return deleted


def purge_tenant(tenant, *, now=None, batch: int = BATCH) -> Purged:
    now = now or timezone.now()
    purged = Purged()
    if tenant.cdr_retention_days:
        cutoff = now - timedelta(days=tenant.cdr_retention_days)
        t = table(Cdr, tenant.schema_name)
        purged.cdrs = _batches(
            f"DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE ended_at < %s ORDER BY id LIMIT %s)",
            [cutoff, batch], purged)
    if tenant.call_retention_days:
        cutoff = now - timedelta(days=tenant.call_retention_days)
        calls, legs = table(Call, tenant.schema_name), table(CallLeg, tenant.schema_name)
        # Legs of the batch's calls first (no cascade in the database), then the calls, in one statement.
        purged.calls = _batches(
            f"WITH old AS (SELECT id FROM {calls} WHERE status = 'ended' AND started_at < %s ORDER BY id LIMIT %s), "
            f"gone_legs AS (DELETE FROM {legs} WHERE call_id IN (SELECT id FROM old)) "
            f"DELETE FROM {calls} WHERE id IN (SELECT id FROM old)",
            [cutoff, batch], purged)
    if purged.cdrs or purged.calls:
        logger.info("retention: %s CDRs and %s call records of %s deleted in %s batches", purged.cdrs, purged.calls,
                    tenant.slug, purged.batches)
    return purged


def purge_all(*, batch: int = BATCH) -> dict[str, Purged]:
    from django.db.models import Q

    from apps.tenants.models import Tenant

    tenants = Tenant.objects.filter(Q(cdr_retention_days__gt=0) | Q(call_retention_days__gt=0)).order_by("slug")
    return {tenant.slug: purge_tenant(tenant, batch=batch) for tenant in tenants}
