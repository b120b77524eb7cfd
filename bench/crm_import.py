#!/usr/bin/env python
"""CRM contact import (issues #4, #14): realistic international data through the API's code path,
against django-import-export and raw COPY.

    .venv/bin/python bench/crm_import.py [--rows 100000] [--big-rows 1000000] [--keep]
                                          [--skip-baseline] [--skip-big] [--skip-preview]

In a dedicated database (thirdlane_bench_crm_import, recreated each run, dropped unless --keep),
with 127.0.0.1 only:

  file      --rows contacts from bench/crm_data.py (generated, nothing downloaded): 26 countries,
            phones in national and international formats read with the row's country (ISO code,
            English or own name, or the end of the address), a mobile on a quarter of the rows,
            names in ten scripts, ~0.5% invalid rows, ~2% repeated e-mails, a Tier custom field.
  ours      what POST /api/crm-contacts/<t>/import does for a file over the inline limit, then
            the worker: ``import_upload`` (store, detect encoding/delimiter, header checks) and
            ``import_run`` (parse, row country, phones to E.164, e-mails, custom field, COPY to a
            temp table, dedupe on e-mail, accounts, insert). The figures are checked against the
            generator's counts (errors = invalid rows, created = distinct e-mails).
  baseline  django-import-export 4: a ModelResource with use_bulk=True (batch 1,000),
            import_id_fields=("email",), the same per-row work in before_import_row (the row's
            country, phones, e-mail rule, custom field), companies through a cached get-or-create.
            Same file, another tenant, same run.
  copy      COPY of the raw file into a bare table of text columns (the physical floor).
  preview   the same file previewed as the API does for a big file: the request's part (store it as
            a draft job, queue the preview) and the worker's part (``import_preview_run``), in a
            fresh tenant; nothing is written.
  big       a --big-rows file imported by ours in a child process; its peak RSS (VmHWM of the
            child, which includes Django itself) is reported.

Targets (issue #14): ours >= 30,000 rows/s; ours >= 10x the baseline; 1M rows peak <= 300 MB.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DB = "thirdlane_bench_crm_import"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")

import crm_data  # noqa: E402  (bench/ is on sys.path when run as a script)

HEADER = crm_data.HEADER
TIERS = crm_data.TIERS


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB}"')


def django_setup() -> None:
    import django

    django.setup()


def make_tenant(slug: str):
    from apps.accounts.principal import Principal
    from apps.tenants.models import Reseller
    from apps.tenants.services import reseller_create, tenant_create

    actor = Principal.system("bench")
    reseller = Reseller.objects.filter(slug="bench").first() or reseller_create(actor=actor, name="Bench",
                                                                               slug="bench")
    return tenant_create(actor=actor, slug=slug, name=slug.title(), reseller=reseller)


def seed_tenant(tenant) -> None:
    """The custom field the file's Tier column goes to (set-up, not measured)."""
    from django_tenants.utils import tenant_context

    from apps.crm.models import CustomField

    with tenant_context(tenant):
        CustomField.objects.create(object_type="contact", name="tier", label="Tier", field_type="choice",
                                   choices=list(TIERS))


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same host: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def ours(tenant, path: Path) -> tuple[float, dict]:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.accounts.principal import Principal
    from apps.crm.imports import import_run, import_upload

    actor = Principal.system("bench")
    with tenant_context(tenant):
        server0, client0 = backend_cpu(), time.process_time()
        start = time.perf_counter()
        with open(path, "rb") as handle:
            job = import_upload(actor=actor, tenant=tenant, upload=handle, file_name=path.name,
                                dedupe_on="email", on_match="update")
        uploaded = time.perf_counter() - start
        job = import_run(tenant=tenant, job_id=job.pk)
        seconds = time.perf_counter() - start
        cpu = {"client_cpu": round(time.process_time() - client0, 2), "server_cpu": round(backend_cpu() - server0, 2)}
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), count(*) FILTER (WHERE custom ? 'tier'), "
                           "count(*) FILTER (WHERE phone ~ '^\\+[1-9][0-9]{6,14}$'), "
                           "count(DISTINCT substr(phone, 1, 3)) FROM crm_contact")
            total, with_tier, e164, prefixes = cursor.fetchone()
    return seconds, {**cpu, "timings": {"upload": round(uploaded, 2),
                                 **{k: round(v, 2) for k, v in getattr(job, "timings", {}).items()}},
                     "status": job.status, "created": job.created_count, "updated": job.updated_count,
                     "errors": job.error_count, "skipped": job.skipped_count, "contacts": total,
                     "with_tier": with_tier, "e164": e164, "phone_prefixes": prefixes}


def preview(tenant, path: Path) -> dict:
    """A big file's preview as the API runs it: the request's part (store the file as a draft job,
    queue the preview; the 202) and the worker's part (``import_preview_run``, with progress)."""
    from django_tenants.utils import tenant_context

    from apps.accounts.principal import Principal
    from apps.crm.imports import import_preview_queue, import_preview_run, import_upload
    from apps.crm.models import ImportJob

    from apps.crm import tasks

    sent = []
    tasks.run_preview.delay = lambda *args: sent.append(args)  # no worker here: recorded, not sent
    with tenant_context(tenant):
        start = time.perf_counter()
        with open(path, "rb") as handle:
            job = import_upload(actor=Principal.system("bench"), tenant=tenant, upload=handle, file_name=path.name,
                                status=ImportJob.Status.DRAFT)
        job = import_preview_queue(tenant=tenant, job=job)
        request = time.perf_counter() - start
        assert sent == [(tenant.pk, job.pk, job.preview_token)]
        start = time.perf_counter()
        job = import_preview_run(tenant=tenant, job_id=job.pk, token=job.preview_token)
        worker = time.perf_counter() - start
    return {"request": request, "worker": worker, "status": job.preview_status,
            "summary": (job.preview or {}).get("summary")}


def baseline(tenant, path: Path) -> tuple[float, dict]:
    """django-import-export 4, ModelResource with use_bulk, doing the same work per row."""
    import tablib
    from django_tenants.utils import tenant_context
    from import_export import fields, resources

    from apps.crm.countries import region_in_address, region_of
    from apps.crm.customfields import parse_email
    from apps.crm.models import Account, Contact
    from apps.crm.phones import PhoneNormalizer

    class ContactResource(resources.ModelResource):
        first_name = fields.Field(attribute="first_name", column_name="First Name")
        last_name = fields.Field(attribute="last_name", column_name="Last Name")
        email = fields.Field(attribute="email", column_name="Email")
        phone = fields.Field(attribute="phone", column_name="Phone")
        mobile = fields.Field(attribute="mobile", column_name="Mobile")
        street = fields.Field(attribute="street", column_name="Street")
        city = fields.Field(attribute="city", column_name="City")
        account_id = fields.Field(attribute="account_id", column_name="account_id")
        custom = fields.Field(attribute="custom", column_name="custom")

        class Meta:
            model = Contact
            use_bulk = True
            batch_size = 1000
            import_id_fields = ("email",)
            fields = ("first_name", "last_name", "email", "phone", "mobile", "street", "city", "account_id", "custom")
            skip_diff = True
            report_skipped = False

        def __init__(self, region: str):
            super().__init__()
            self.phones = PhoneNormalizer(region)
            self.accounts: dict[str, int] = {}

        def before_import_row(self, row, **kwargs):
            region = region_of(row["Country"]) or region_in_address(row["Street"]) or self.phones.region
            row["Email"] = parse_email(row["Email"])
            row["Phone"] = self.phones(row["Phone"], region)
            row["Mobile"] = self.phones(row["Mobile"], region) if row["Mobile"] else ""
            name = row["Company"].strip()
            if name not in self.accounts:
                self.accounts[name] = (Account.objects.filter(name__iexact=name).values_list("pk", flat=True).first()
                                       or Account.objects.create(name=name).pk)
            row["account_id"] = self.accounts[name]
            if row["Tier"] not in TIERS:
                raise ValueError("bad tier")
            row["custom"] = {"tier": row["Tier"]}

    with tenant_context(tenant):
        start = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as handle:
            dataset = tablib.Dataset().load(handle.read(), format="csv")
        result = ContactResource(tenant.default_region).import_data(dataset, dry_run=False, raise_errors=False,
                                                                    use_transactions=True)
        seconds = time.perf_counter() - start
        counts = {"created": result.totals.get("new", 0), "updated": result.totals.get("update", 0),
                  "errors": len(result.row_errors()), "invalid": len(result.invalid_rows),
                  "contacts": Contact.objects.count()}
    return seconds, counts


def raw_copy(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS public.bench_raw_copy")
        cursor.execute("CREATE TABLE public.bench_raw_copy (" + ", ".join(f"c{i} text" for i in range(len(HEADER)))
                       + ")")
        start = time.perf_counter()
        with open(path, "rb") as handle, cursor.copy(
                "COPY public.bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while block := handle.read(1024 * 1024):
                copy.write(block)
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE public.bench_raw_copy")
    return seconds


def child_big(slug: str, path: str) -> None:
    """Run in a child process: import the big file, print the result and this process's peak RSS."""
    django_setup()
    from django.conf import settings

    from apps.tenants.models import Tenant

    settings.CRM_IMPORT_MAX_BYTES = 1024 * 1024 * 1024  # the API's 50 MiB cap is not what is measured here
    tenant = Tenant.objects.get(slug=slug)
    seconds, counts = ours(tenant, Path(path))
    # VmHWM: the peak resident set of this process's own memory. ru_maxrss is not used: when
    # Python starts a child with vfork, Linux carries the parent's high-water mark into the
    # child's ru_maxrss at exec, so it would report the benchmark's parent, not this import.
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "counts": counts, "peak_mb": peak_kb / 1024,
                      "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-preview", action="store_true")
    parser.add_argument("--child-big", nargs=2, metavar=("TENANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_big:
        child_big(*args.child_big)
        return

    recreate_database()
    try:
        django_setup()
        from django.core.management import call_command

        call_command("bootstrap", no_pool=True, verbosity=0)
        workdir = Path(tempfile.mkdtemp(prefix="crm-bench-"))
        path = workdir / "contacts.csv"
        expected = crm_data.write(path, args.rows)
        size = path.stat().st_size
        print(f"file: {args.rows:,} rows, {size / 1e6:.1f} MB, {len(crm_data.COUNTRIES)} countries; generated: "
              f"{expected.invalid} invalid, {expected.duplicates} repeated e-mails, {expected.distinct} distinct, "
              f"{expected.no_country_column} with the country only in the address; dedupe on e-mail (update); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        ours_tenant = make_tenant("ours")
        seed_tenant(ours_tenant)
        seconds, counts = ours(ours_tenant, path)
        ok = (counts["errors"], counts["created"], counts["skipped"]) == (expected.invalid, expected.distinct,
                                                                           expected.duplicates)
        print(f"check: errors {counts['errors']} (generated invalid {expected.invalid}), created {counts['created']} "
              f"(distinct {expected.distinct}), skipped {counts['skipped']} (repeated {expected.duplicates}): "
              f"{'EXACT' if ok else 'MISMATCH'}")
        ours_rate = args.rows / seconds
        print(f"ours:      {seconds:6.2f} s  {ours_rate:9,.0f} rows/s  {counts}")
        busiest = max(counts["client_cpu"], counts["server_cpu"])
        print(f"           CPU: this process {counts['client_cpu']:.2f} s (parser thread included), its PostgreSQL "
              f"backend {counts['server_cpu']:.2f} s; the two overlap, so on two idle cores the "
              f"wall-time floor is {busiest:.2f} s = {args.rows / busiest:,.0f} rows/s")
        copy_seconds = raw_copy(path)
        copy_rate = args.rows / copy_seconds
        print(f"raw COPY:  {copy_seconds:6.2f} s  {copy_rate:9,.0f} rows/s  (bare table, no parsing in Python)")
        print(f"ratio ours / raw COPY: {ours_rate / copy_rate:.3f} ({copy_rate / ours_rate:.1f}x slower than the "
              f"physical floor)")
        verdict = "PASS" if ours_rate >= 30_000 else "FAIL"
        print(f"target ours >= 30,000 rows/s: {verdict}")
        if not args.skip_preview:
            preview_tenant = make_tenant("preview")
            seed_tenant(preview_tenant)
            p = preview(preview_tenant, path)
            print(f"preview:   request (store + queue) {p['request']:.2f} s (target < 1 s: "
                  f"{'PASS' if p['request'] < 1 else 'FAIL'}); the worker's preview {p['worker']:.2f} s = "
                  f"{args.rows / p['worker']:,.0f} rows/s, {p['status']} {p['summary']}")
        if not args.skip_baseline:
            iex_tenant = make_tenant("iex")
            seed_tenant(iex_tenant)
            b_seconds, b_counts = baseline(iex_tenant, path)
            b_rate = args.rows / b_seconds
            print(f"baseline:  {b_seconds:6.2f} s  {b_rate:9,.0f} rows/s  django-import-export use_bulk {b_counts}")
            ratio = ours_rate / b_rate
            print(f"ratio ours / django-import-export: {ratio:.1f}x  target >= 10x: "
                  f"{'PASS' if ratio >= 10 else 'FAIL'}")
        if not args.skip_big:
            big = workdir / "big.csv"
            crm_data.write(big, args.big_rows, seed=11)
            big_size = big.stat().st_size
            big_tenant = make_tenant("big")
            seed_tenant(big_tenant)
            from django.db import connections

            connections.close_all()
            proc = subprocess.run([sys.executable, __file__, "--child-big", "big", str(big)], capture_output=True,
                                  text=True, env=os.environ.copy())
            if proc.returncode:
                print(proc.stdout, proc.stderr)
                raise SystemExit("big import failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"big:       {result['seconds']:6.2f} s  {args.big_rows / result['seconds']:9,.0f} rows/s  "
                  f"{big_size / 1e6:.0f} MB file  {result['counts']}")
            print(f"big peak RSS: {result['peak_mb']:.0f} MB (VmHWM of the child process: Django, the app and the "
                  f"import; a bare Django process is ~85 MB)  target <= 300 MB: "
                  f"{'PASS' if result['peak_mb'] <= 300 else 'FAIL'}  [the child's ru_maxrss: {result['ru_maxrss_mb']:.0f} MB, "
                  f"which Linux seeds with this parent's peak when Python starts the child with vfork]")
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)


if __name__ == "__main__":
    main()
