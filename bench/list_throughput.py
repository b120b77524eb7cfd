#!/usr/bin/env python
"""List throughput through the whole stack vs. a bare DRF list of the same rows.

    .venv/bin/python bench/list_throughput.py [--rows 10000] [--limit 100] [--requests 400]

Ours: GET /api/extensions/<tenant>/?limit=100 with X-API-Key: request id, key lookup, tenant
resolution and scope, schema switch, strict filters, ordering, COUNT for X-Total-Count, Link.
Baseline: a stock DRF ListAPIView (no authentication, DRF's own LimitOffsetPagination, same
serializer, same queryset) on the same tenant schema. Both run in this process through Django's
test client, interleaved in blocks, so machine noise hits both alike. Also prints the query count
of a list request at limit=1 and limit=1000 (must be equal).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_list"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["ALLOWED_HOSTS"] = "*"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def bare_urlconf(tenant):
    """thirdlane.urls plus /bare/extensions/: stock DRF, no auth, DRF's own pagination."""
    import types

    from django.db import connection
    from django.urls import path
    from rest_framework import generics, pagination
    from rest_framework.permissions import AllowAny

    from apps.telephony.api.serializers import ExtensionSerializer
    from apps.telephony.selectors import extension_list
    from thirdlane import urls as root

    class BareList(generics.ListAPIView):
        authentication_classes: list = []
        permission_classes = [AllowAny]
        serializer_class = ExtensionSerializer
        pagination_class = pagination.LimitOffsetPagination
        filter_backends: list = []

        def get_queryset(self):
            connection.set_tenant(tenant)
            return extension_list().order_by("number")  # the same queryset as ours

        def get_serializer_context(self):
            return {**super().get_serializer_context(), "tenant": tenant}

    module = types.ModuleType("bench_urls")
    module.urlpatterns = [path("bare/extensions/", BareList.as_view()), *root.urlpatterns]
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    recreate_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.telephony.models import Extension
    from apps.tenants.models import Tenant
    from apps.tenants.services import reseller_create, tenant_create

    call_command("bootstrap", verbosity=0, stdout=open(os.devnull, "w"))
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    tenant = tenant_create(actor=actor, slug="bench", name="Bench", reseller=reseller, max_extensions=100000)
    key = api_key_create(actor=actor, name="bench", scope=Scope.TENANT, tenant=tenant).key
    with tenant_context(tenant):
        Extension.objects.bulk_create(
            [Extension(number=f"{10000 + i}", name=f"User {i}", email=f"u{i}@example.com",
                       sip_secret=f"Secret-{i:06d}-xyz") for i in range(args.rows)], batch_size=2000)
    connection.set_schema_to_public()
    tenant = Tenant.objects.get(pk=tenant.pk)

    settings.ROOT_URLCONF = bare_urlconf(tenant)
    from django.urls import clear_url_caches

    clear_url_caches()
    client = Client(HTTP_X_API_KEY=key)
    ours_url = f"/api/extensions/bench/?limit={args.limit}"
    bare_url = f"/bare/extensions/?limit={args.limit}"
    for url in (ours_url, bare_url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    assert len(client.get(ours_url).json()) == args.limit

    # query counts: the same for 1 row and 1000 rows
    counts = {}
    for limit in (1, 1000):
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"/api/extensions/bench/?limit={limit}")
        counts[limit] = len(ctx.captured_queries)
    reset_queries()

    def run(url: str, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            client.get(url)
        return n / (time.perf_counter() - started)

    block = max(args.requests // 8, 10)
    ours, bare = [], []
    for _ in range(8):
        ours.append(run(ours_url, block))
        bare.append(run(bare_url, block))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"List of {args.limit} rows out of {args.rows}, {block * 8} requests each, in-process (median of 8 blocks)")
    print(f"  ours  (key auth, tenancy, strict filters, X-Total-Count, Link): {o:8.1f} req/s")
    print(f"  bare  (stock DRF ListAPIView, no auth, DRF LimitOffsetPagination): {b:8.1f} req/s")
    print(f"  ratio ours/bare: {o / b:.2f}x   (target >= 0.75x)")
    print(f"  queries per list request: limit=1 -> {counts[1]}, limit=1000 -> {counts[1000]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
