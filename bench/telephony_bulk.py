#!/usr/bin/env python
"""Bulk creation of extensions (issue #3): 1,000 extensions in one API request.

    .venv/bin/python bench/telephony_bulk.py [--count 1000] [--rounds 5] [--naive 100] [--keep]

In a dedicated database (thirdlane_bench_telephony_bulk, recreated each run, dropped unless
--keep): one tenant. Each round measures, on an emptied extension table:

  api       POST /api/extensions/<tenant>/bulk {"start", "end", "name_template", "defaults"} in-process
            through the whole stack (auth, scope, schema, validation, secrets generated and encrypted,
            one INSERT each for extensions, audit entries and events, the JSON response)
  baseline  Extension.objects.bulk_create of the same rows, prepared beforehand (secrets included,
            so the encryption is in both), in one transaction: the floor of any path
  naive     (once) --naive single POSTs /api/extensions/<tenant>/, extrapolated to --count: what a
            client without the bulk endpoint would do

Prints the medians, the api/baseline ratio, naive/api, and whether the target (<= 3 s) holds.
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
DB = "thirdlane_bench_telephony_bulk"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
TARGET_SECONDS = 3.0


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--naive", type=int, default=100, help="Single POSTs to time (0 to skip).")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django_tenants.utils import tenant_context

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.events.models import OutboxEvent
    from apps.telephony.models import Extension
    from apps.telephony.validators import generate_pin, generate_secret
    from apps.tenants.services import reseller_create, tenant_create

    try:
        print("setting up ...", file=sys.stderr, flush=True)
        call_command("bootstrap", no_pool=True, verbosity=0)
        actor = Principal.system("bench")
        reseller = reseller_create(actor=actor, name="Bench", slug="bench")
        tenant = tenant_create(actor=actor, slug="bench-co", name="Bench Co", reseller=reseller,
                               max_extensions=100_000, extension_length=5)
        key = api_key_create(actor=actor, name="bench", scope=Scope.TENANT, tenant=tenant).key
        client = Client(HTTP_X_API_KEY=key)
        url = f"/api/extensions/{tenant.slug}/bulk"
        start, end = 10000, 10000 + args.count - 1

        def empty():
            with tenant_context(tenant), connection.cursor() as cursor:
                cursor.execute("TRUNCATE telephony_extension CASCADE")
            OutboxEvent.objects.all().delete()

        body = {"start": str(start), "end": str(end), "name_template": "Desk {number}",
                "defaults": {"codecs": ["opus", "ulaw"], "ring_time": 25}}
        # warm-up (imports, key cache, first-use costs)
        assert client.post(url, {"start": "99990", "end": "99999"}, content_type="application/json").status_code == 201
        empty()

        api_times, base_times = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            response = client.post(url, body, content_type="application/json")
            api_times.append(time.perf_counter() - t0)
            assert response.status_code == 201, response.content[:500]
            assert len(response.json()) == args.count
            with tenant_context(tenant):
                assert Extension.objects.count() == args.count
            empty()

            rows = [Extension(number=str(n), name=f"Desk {n}", sip_secret=generate_secret(),
                              voicemail_pin=generate_pin(), codecs=["opus", "ulaw"], ring_time=25)
                    for n in range(start, end + 1)]
            with tenant_context(tenant):
                t0 = time.perf_counter()
                with transaction.atomic():
                    Extension.objects.bulk_create(rows, batch_size=500)
                base_times.append(time.perf_counter() - t0)
            empty()

        naive_total = None
        if args.naive:
            single = f"/api/extensions/{tenant.slug}/"
            t0 = time.perf_counter()
            for n in range(args.naive):
                r = client.post(single, {"number": str(20000 + n), "name": f"Desk {n}", "codecs": ["opus", "ulaw"],
                                         "ring_time": 25}, content_type="application/json")
                assert r.status_code == 201, r.content[:300]
            naive_total = (time.perf_counter() - t0) / args.naive * args.count
            empty()

        api_med, base_med = statistics.median(api_times), statistics.median(base_times)
        print(f"bulk create of {args.count} extensions, {args.rounds} rounds (median, min..max)")
        print(f"  api       POST .../bulk          {api_med:7.3f} s  ({min(api_times):.3f}..{max(api_times):.3f})"
              f"  {args.count / api_med:8.0f} ext/s")
        print(f"  baseline  bulk_create same rows   {base_med:7.3f} s  ({min(base_times):.3f}..{max(base_times):.3f})"
              f"  {args.count / base_med:8.0f} ext/s")
        print(f"  ratio     api / baseline          {api_med / base_med:7.2f}x")
        if naive_total is not None:
            print(f"  naive     {args.naive} single POSTs, extrapolated to {args.count}: {naive_total:7.3f} s"
                  f"  (naive / api {naive_total / api_med:5.1f}x)")
        verdict = "OK" if api_med <= TARGET_SECONDS else "MISSED"
        print(f"  target    <= {TARGET_SECONDS:.1f} s for {args.count}: {verdict}")
        return 0 if api_med <= TARGET_SECONDS else 1
    finally:
        connection.close()
        if not args.keep:
            recreate_database(drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
