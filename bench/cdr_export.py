#!/usr/bin/env python
"""Billing figures of issue 10: CDRs streamed as CSV over HTTP, and a scheduled export of many tenants.

    .venv/bin/python bench/cdr_export.py [--rows 1000000] [--tenants 100] [--per-tenant 10000]

In a dedicated database (thirdlane_bench_cdr, recreated each run):

  stream    one tenant with --rows CDRs; GET /api/cdrs/<tenant>/?format=csv from a real gunicorn
            worker (one sync worker, as bin/run starts them) read by a client that counts the
            rows: rows/s (target >= 100k) and the worker's peak RSS (VmHWM) after 1/10 of the rows
            and after all of them (flat memory: the two should be about equal). Baseline, in the
            same run: psycopg's COPY ... TO STDOUT of the same SELECT, read by this process.
  export    --tenants tenants x --per-tenant CDRs in one reseller; one run of a scheduled CSV
            export of all of them to a directory, through the runner the Celery task calls:
            seconds (target <= 60) and rows/s, with the ratio to the stream baseline.

CDRs are inserted with one INSERT ... SELECT generate_series per tenant (realistic values: E.164
numbers, trunks, DIDs, extensions, dispositions, answer and end times). Benchmarks are not tests:
this prints figures and ratios.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_cdr"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["RATE_LIMIT_ENABLED"] = "0"
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/5"

FILL = """
INSERT INTO {table} (server_id, linkedid, leg, call_id, direction, source, destination, did, trunk, extension,
                     disposition, hangup_cause, hangup_cause_text, account_code, started_at, answered_at, ended_at,
                     duration, billsec, created_at)
SELECT 1, '17957' || g || '.' || (g %% 97), CASE WHEN g %% 3 = 2 THEN '' ELSE '17957' || g || '.1' END, g,
       (ARRAY['inbound','outbound','internal'])[1 + g %% 3],
       '+1415' || lpad((5550000 + g %% 9999)::text, 7, '0'), '+4420' || lpad((79460000 + g %% 99999)::text, 8, '0'),
       CASE WHEN g %% 3 = 0 THEN '+14155550100' ELSE '' END, CASE WHEN g %% 3 = 2 THEN '' ELSE 'carrier-a' END,
       (1000 + g %% 400)::text, (ARRAY['answered','answered','answered','no_answer','busy'])[1 + g %% 5], 16,
       'Normal Clearing', %s, t0 + make_interval(secs => g * 2.6), t0 + make_interval(secs => g * 2.6 + 4),
       t0 + make_interval(secs => g * 2.6 + 4 + g %% 600), 4 + g %% 600, g %% 600, now()
FROM generate_series(1, %s) g, (SELECT timestamptz '2026-11-01 00:00:00+00' AS t0) s
"""


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--per-tenant", type=int, default=10_000)
    args = parser.parse_args()
    recreate_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.billing.models import Cdr
    from apps.tenants.crossschema import table
    from apps.tenants.services import reseller_create, tenant_create

    call_command("bootstrap", verbosity=0, stdout=open(os.devnull, "w"))
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench", max_tenants=args.tenants + 10)
    big = tenant_create(actor=actor, slug="big", name="Big", reseller=reseller)
    key = api_key_create(actor=actor, name="bench", scope=Scope.TENANT, tenant=big).key
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FILL.format(table=table(Cdr, big.schema_name)), ["BIG", args.rows])
        cursor.execute(f"ANALYZE {table(Cdr, big.schema_name)}")
    print(f"{args.rows:,} CDRs inserted in {time.perf_counter() - started:.1f} s")

    # --- baseline: COPY of the same SELECT, read here ---------------------------------------
    from apps.billing import streaming

    select = f"SELECT {streaming.select_list()} FROM {table(Cdr, big.schema_name)} ORDER BY id"
    baseline_rows = 0
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(streaming.copy_statement(select, "csv")) as copy:
        for chunk in copy:
            baseline_rows += bytes(chunk).count(b"\n")
    baseline = time.perf_counter() - started
    baseline_rows -= 1  # header

    # --- ours: over HTTP from a gunicorn worker ----------------------------------------------
    import requests

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "thirdlane.settings", "ALLOWED_HOSTS": "*"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "thirdlane.wsgi", "-w", "1", "-b",
                               f"127.0.0.1:{port}", "--timeout", "300"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/api/health/", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        worker = worker_pid(server.pid)
        headers = {"X-API-Key": key}
        requests.get(f"http://127.0.0.1:{port}/api/cdrs/big/?limit=1", headers=headers)  # warm
        idle = hwm_kib(worker)
        rows, at_tenth = 0, None
        started = time.perf_counter()
        with requests.get(f"http://127.0.0.1:{port}/api/cdrs/big/?format=csv", headers=headers, stream=True,
                          timeout=300) as response:
            assert response.status_code == 200, response.text[:300]
            for chunk in response.iter_content(1 << 16):
                rows += chunk.count(b"\n")
                if at_tenth is None and rows >= args.rows // 10:
                    at_tenth = hwm_kib(worker)
        ours = time.perf_counter() - started
        peak = hwm_kib(worker)
    finally:
        server.terminate()
        server.wait(10)
    rows -= 1
    assert rows == baseline_rows == args.rows, (rows, baseline_rows)
    print(f"\nStream {rows:,} CDRs as CSV")
    print(f"  baseline COPY TO STDOUT, read in-process: {baseline:6.2f} s  {baseline_rows / baseline:>10,.0f} rows/s")
    print(f"  GET /api/cdrs/<tenant>/?format=csv (HTTP): {ours:6.2f} s  {rows / ours:>10,.0f} rows/s  "
          f"(target >= 100,000)  ratio to baseline {baseline / ours:.2f}")
    print(f"  gunicorn worker peak RSS: idle {idle / 1024:.0f} MiB, after 10% {at_tenth / 1024:.0f} MiB, "
          f"after 100% {peak / 1024:.0f} MiB (flat: +{(peak - at_tenth) / 1024:.1f} MiB for the last 90%)")

    # --- a scheduled export of many tenants ------------------------------------------------
    from django.conf import settings

    from apps.exports import runner
    from apps.exports.models import ExportRun
    from apps.exports.services import schedule_create

    started = time.perf_counter()
    tenants = [tenant_create(actor=actor, slug=f"t{i:03d}", name=f"Tenant {i}", reseller=reseller)
               for i in range(args.tenants)]
    with connection.cursor() as cursor:
        for tenant in tenants:
            cursor.execute(FILL.format(table=table(Cdr, tenant.schema_name)), [tenant.slug.upper(), args.per_tenant])
    print(f"\n{args.tenants} tenants x {args.per_tenant:,} CDRs set up in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        settings.EXPORT_DIRECTORY_ROOT = settings.EXPORT_FILES_DIR = folder

        schedule = schedule_create(actor=actor, name="bench", reseller=reseller, destination_type="directory",
                                   destination={"path": "out"})
        big_rows = args.rows
        run = ExportRun.objects.create(schedule=schedule)
        started = time.perf_counter()
        runner.execute(run.pk)
        took = time.perf_counter() - started
        run.refresh_from_db()
    total = args.tenants * args.per_tenant + big_rows
    assert run.status == "succeeded" and run.rows == total, (run.status, run.rows, run.error)
    print(f"  one export run of every tenant of the reseller ({args.tenants} + 1 tenants, {run.rows:,} CDRs, "
          f"{run.bytes / 1e6:.0f} MB CSV): {took:.1f} s (target <= 60 s for {args.tenants} x {args.per_tenant:,}), "
          f"{run.rows / took:,.0f} rows/s, ratio to the COPY baseline {(run.rows / took) / (baseline_rows / baseline):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
