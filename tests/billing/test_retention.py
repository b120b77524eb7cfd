"""Retention deletes CDRs and call records past each tenant's settings, in batches, and nothing else."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.billing.models import Cdr
from apps.billing.retention import purge_tenant
from apps.calls.models import Call, CallLeg
from apps.tenants.models import Tenant
from tests.billing.conftest import write

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)  # the known calls are from 2026-11-02


def test_old_cdrs_and_calls_go_in_batches_newer_ones_stay(billing, world):
    write(billing, world)
    write(billing, world, offset=25 * 86400, prefix="new")  # 2026-11-27: inside both retentions
    Tenant.objects.filter(pk=world.acme.pk).update(cdr_retention_days=10, call_retention_days=20)
    world.acme.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        purged = purge_tenant(world.acme, now=NOW, batch=3)
    deletes = [q["sql"] for q in queries.captured_queries if "DELETE" in q["sql"]]
    assert purged.cdrs == 4 and purged.calls == 4
    assert len(deletes) == purged.batches == 3 + 3  # batches of 3, 1 and 0 rows, for CDRs and for calls
    assert all("LIMIT" in sql for sql in deletes)
    with tenant_context(world.acme):
        assert Cdr.objects.count() == 4 and all(c.started_at > NOW - timedelta(days=10) for c in Cdr.objects.all())
        assert Call.objects.count() == 4 and CallLeg.objects.count() == 8
        assert not CallLeg.objects.exclude(call__in=Call.objects.all()).exists()


def test_zero_keeps_everything_and_other_tenants_are_untouched(billing, world):
    write(billing, world)
    write(billing, world, "globex")
    Tenant.objects.filter(pk=world.globex.pk).update(cdr_retention_days=1)
    world.acme.refresh_from_db()
    world.globex.refresh_from_db()
    assert purge_tenant(world.acme, now=NOW).cdrs == 0
    assert purge_tenant(world.globex, now=NOW).cdrs == 4
    with tenant_context(world.acme):
        assert Cdr.objects.count() == 4 and Call.objects.count() == 4
    with tenant_context(world.globex):
        assert Cdr.objects.count() == 0 and Call.objects.count() == 4
