#!/usr/bin/env python
"""Tenant creation and tenant migration at scale (issue: platform foundation).

    .venv/bin/python bench/tenancy.py [--levels 0,100,500] [--repeat 3] [--baseline-sample 50] [--full-baseline]

In a dedicated database (thirdlane_bench_tenancy, recreated each run), for each level of existing
tenants it times, as the request path would pay them:
  pool     tenant_create with a spare schema ready (the rename path: what a request pays)
  build    tenant_create with the pool empty (our DDL replay of the template, in-line)
  clone    django-tenants' clone_schema of the template (what TENANT_BASE_SCHEMA does)
  migrate  django-tenants' default: CREATE SCHEMA + migrate_schemas for the new schema (baseline)
and prints the ratios. Then, with every tenant schema current, it times our `migrate_tenants`
against django-tenants' `migrate_schemas --tenant` over the same schemas (on a sample,
extrapolated, unless --full-baseline).
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
DB = "thirdlane_bench_tenancy"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="0,100,500")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-sample", type=int, default=50)
    parser.add_argument("--full-baseline", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.accounts.principal import Principal
    from apps.tenants import schemas
    from apps.tenants.models import Tenant
    from apps.tenants.services import reseller_create, tenant_create

    call_command("bootstrap", no_pool=True, verbosity=0)
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    counter = {"n": 0}

    def new_slug() -> str:
        counter["n"] += 1
        return f"t{counter['n']:05d}"

    def create(slug: str) -> float:
        started = time.perf_counter()
        tenant_create(actor=actor, slug=slug, name=slug, reseller=reseller)
        return time.perf_counter() - started

    def clone_path() -> float:
        name = f"_bench_clone_{counter['n']}"
        started = time.perf_counter()
        schemas.clone_template(name)
        elapsed = time.perf_counter() - started
        schemas.drop_schema(name)
        return elapsed

    def migrate_path() -> float:
        name = f"_bench_migrate_{counter['n']}"
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
        elapsed = time.perf_counter() - started
        connection.set_schema_to_public()
        schemas.drop_schema(name)
        return elapsed

    template_ddl = dump_template_ddl()

    def grow_to(level: int) -> None:
        """Existing tenants, made fast (not measured): the template's DDL replayed per schema."""
        missing = level - Tenant.objects.count()
        batch = []
        for _ in range(max(missing, 0)):
            slug = new_slug()
            schema = schemas.schema_name_for(slug)
            with connection.cursor() as cursor:
                cursor.execute(template_ddl.replace('"__TEMPLATE__"', f'"{schema}"'))
                cursor.execute(f'INSERT INTO "{schema}".django_migrations (app, name, applied) '
                               f'SELECT app, name, applied FROM "{schemas.template_schema()}".django_migrations')
            batch.append(Tenant(slug=slug, name=slug, reseller=reseller, schema_name=schema))
        Tenant.objects.bulk_create(batch)

    rows = []
    for level in levels:
        print(f"growing to {level} tenants ...", file=sys.stderr, flush=True)
        grow_to(level)
        pool_t, build_t, clone_t, migrate_t = [], [], [], []
        for _ in range(args.repeat):
            schemas.fill_pool(1)
            pool_t.append(create(new_slug()))
            schemas.empty_pool()
            build_t.append(create(new_slug()))
            clone_t.append(clone_path())
            migrate_t.append(migrate_path())
        rows.append((level, *(statistics.median(t) for t in (pool_t, build_t, clone_t, migrate_t))))

    tables = len(schemas_tables(connection))
    print(f"\nTenant creation (median of {args.repeat}; template schema has {tables} tables)")
    print(f"{'existing':>9} {'pool s':>8} {'build s':>8} {'dt-clone s':>11} {'migrate s':>10} "
          f"{'migrate/pool':>13} {'migrate/build':>14} {'clone/build':>12}")
    for level, p, b, c, m in rows:
        print(f"{level:>9} {p:>8.3f} {b:>8.3f} {c:>11.3f} {m:>10.3f} {m / p:>12.1f}x {m / b:>13.1f}x {c / b:>11.1f}x")

    # --- migrating already-current tenant schemas --------------------------------------------
    names = list(Tenant.objects.order_by("schema_name").values_list("schema_name", flat=True))
    started = time.perf_counter()
    call_command("migrate_tenants", no_progress=True, verbosity=0, stdout=open(os.devnull, "w"))
    ours = time.perf_counter() - started
    sample = names if args.full_baseline else names[: args.baseline_sample]
    started = time.perf_counter()
    for name in sample:
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
    baseline_sample = time.perf_counter() - started
    connection.set_schema_to_public()
    baseline = baseline_sample * len(names) / len(sample)
    how = "measured" if len(sample) == len(names) else f"extrapolated from {len(sample)} schemas"
    print(f"\nMigrating {len(names)} current tenant schemas")
    print(f"  migrate_tenants (ours):            {ours:8.2f} s")
    print(f"  django-tenants migrate_schemas:    {baseline:8.2f} s ({how}: {baseline_sample:.2f} s)")
    print(f"  ratio:                             {baseline / ours:8.1f}x faster")
    return 0


def dump_template_ddl() -> str:
    """The template schema's DDL with its name replaced by a placeholder (pg_dump --schema-only)."""
    import re
    import subprocess

    from django.conf import settings

    from apps.tenants import schemas

    db = settings.DATABASES["default"]
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-h", db["HOST"], "-p", db["PORT"],
         "-U", db["USER"], "-n", schemas.template_schema(), db["NAME"]],
        check=True, capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if not ln.startswith(("SET ", "SELECT pg_catalog.set_config", "--", "\\"))]
    ddl = "\n".join(lines)
    return re.sub(rf'\b"?{re.escape(schemas.template_schema())}"?\.', '"__TEMPLATE__".', ddl).replace(
        f"CREATE SCHEMA {schemas.template_schema()};", 'CREATE SCHEMA "__TEMPLATE__";')


def schemas_tables(connection) -> list[str]:
    from apps.tenants import schemas

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schemas.template_schema()])
        return [r[0] for r in cursor.fetchall()]


if __name__ == "__main__":
    sys.exit(main())
