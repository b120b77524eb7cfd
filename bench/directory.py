#!/usr/bin/env python
"""Shared directory search across an organization's member tenants (issue #6).

    .venv/bin/python bench/directory.py [--members 5,50] [--extensions 200] [--rounds 20] [--keep]

In a dedicated database (thirdlane_bench_directory, recreated each run, dropped unless --keep):
an organization whose members each have ``--extensions`` extensions, 5 queues and (when the CRM
app has contacts) 50 contacts, 10 of them shared in the directory. At each member count it times
a fixed mix of searches (names, numbers, a prefix, a miss), limit 50:

  api       GET /api/organization/<id>/directory?q=... in-process (auth, scope, serializer)
  selector  directory_search(): the one UNION ALL statement over the member schemas
  baseline  one query per member schema and entry type (schema switch + ORM filter, as a naive
            server loop would), merged, ranked and sorted in Python to the same page
  client    what a naive API client does without the directory: GET /api/extensions/<member>/
            and /api/queues/<member>/?search=q for every member, merged on its side (when the
            telephony API is installed; contacts left out, so it does less work than ours)

It checks that baseline and selector return the same page, and prints p50/p95, queries per
search, and the baseline/ours ratios.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_directory"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")

FIRST = ("Ann", "Bob", "Carla", "Dev", "Elena", "Frank", "Grace", "Hiro", "Ines", "Jon", "Kofi", "Lena", "Marco",
         "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Xavi", "Yara", "Zane")
LAST = ("Smith", "Jones", "Garcia", "Brown", "Miller", "Davis", "Lopez", "Wilson", "Anderson", "Taylor", "Moore",
        "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Young", "Walker")
SEARCHES = ("ann", "smith", "grace lee", "1001", "10", "sales", "zzz-nobody")
TEST_TARGET_P50_MS = 50.0


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB}"')


def dump_template_ddl() -> str:
    """The template schema's DDL with its name replaced by a placeholder (pg_dump --schema-only):
    member schemas are made by replaying it, much faster than cloning (this is set-up, not measured)."""
    from django.conf import settings

    from apps.tenants import schemas

    db = settings.DATABASES["default"]
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-h", db["HOST"], "-p", str(db["PORT"]),
         "-U", db["USER"], "-n", schemas.template_schema(), db["NAME"]],
        check=True, capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if not ln.startswith(("SET ", "SELECT pg_catalog.set_config", "--", "\\"))]
    ddl = "\n".join(lines)
    return re.sub(rf'\b"?{re.escape(schemas.template_schema())}"?\.', '"__TEMPLATE__".', ddl).replace(
        f"CREATE SCHEMA {schemas.template_schema()};", 'CREATE SCHEMA "__TEMPLATE__";')


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", default="5,50")
    parser.add_argument("--extensions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20, help="Times each search of the mix runs per level.")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    levels = sorted(int(x) for x in args.members.split(","))

    recreate_database()
    import django

    django.setup()
    from django.apps import apps as django_apps
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.organizations import selectors
    from apps.organizations.services import organization_create, organization_member_add
    from apps.telephony.models import Extension, Queue
    from apps.tenants import schemas
    from apps.tenants.models import Tenant
    from apps.tenants.services import reseller_create

    try:
        Contact = django_apps.get_model("crm.Contact")
    except LookupError:
        Contact = None

    print("setting up ...", file=sys.stderr, flush=True)
    call_command("bootstrap", no_pool=True, verbosity=0)
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    organization = organization_create(actor=actor, name="Bench Group", slug="bench-group", reseller=reseller)
    key = api_key_create(actor=actor, name="bench", scope=Scope.RESELLER, reseller=reseller).key
    client = Client(HTTP_X_API_KEY=key)
    ddl = dump_template_ddl()

    def add_member(index: int) -> None:
        slug = f"site{index:03d}"
        schema = schemas.schema_name_for(slug)
        with connection.cursor() as cursor:
            cursor.execute(ddl.replace('"__TEMPLATE__"', f'"{schema}"'))
            cursor.execute(f'INSERT INTO "{schema}".django_migrations (app, name, applied) '
                           f'SELECT app, name, applied FROM "{schemas.template_schema()}".django_migrations')
        tenant = Tenant.objects.create(slug=slug, name=f"Site {index}", reseller=reseller, schema_name=schema)
        with schema_context(schema):
            Extension.objects.bulk_create([
                Extension(number=str(1000 + n), email=f"user{n}@site{index}.example", enabled=n % 50 != 49,
                          name=f"{FIRST[(n + index) % len(FIRST)]} {LAST[(n * 7 + index) % len(LAST)]}")
                for n in range(args.extensions)])
            Queue.objects.bulk_create([Queue(number=str(8000 + n), name=f"{w} desk {index}") for n, w in
                                       enumerate(("Sales", "Support", "Billing", "Front", "Night"))])
            if Contact is not None:
                Contact.objects.bulk_create([
                    Contact(first_name=FIRST[(n * 3) % len(FIRST)], last_name=LAST[(n + index) % len(LAST)],
                            email=f"c{n}@customer{index}.example", phone=f"+1415555{index:02d}{n:02d}"[:12],
                            shared_in_directory=n % 5 == 0)
                    for n in range(50)])
        connection.set_schema_to_public()
        organization_member_add(actor=actor, organization=organization, tenant=tenant, site_code=str(100 + index))

    def baseline(members, q: str, limit: int = 50):
        """One query per member schema and type; merge, rank and sort in Python."""
        from django.db.models import Q

        lq, hits = q.lower(), []

        def rank(name: str, number: str) -> int:
            name = name.lower()
            if name == lq or number == q:
                return 0
            if name.startswith(lq) or number.startswith(q):
                return 1
            return 2 if f" {lq}" in f" {name}" else 3

        for member in members:
            tenant = member.tenant
            with schema_context(tenant.schema_name):
                for e in Extension.objects.filter(Q(name__icontains=q) | Q(number__contains=q) | Q(email__icontains=q),
                                                  enabled=True).values_list("id", "name", "number", "email"):
                    hits.append(("extension", e[0], e[1], e[2], e[3], "", f"{e[2]}-{tenant.slug}", rank(e[1], e[2]),
                                 member.site_code, tenant.slug, tenant.name))
                for qu in Queue.objects.filter(Q(name__icontains=q) | Q(number__contains=q)).values_list(
                        "id", "name", "number"):
                    hits.append(("queue", qu[0], qu[1], qu[2], "", "", None, rank(qu[1], qu[2]), member.site_code,
                                 tenant.slug, tenant.name))
                if Contact is not None:
                    for c in Contact.objects.filter(shared_in_directory=True).select_related("account"):
                        name = f"{c.first_name} {c.last_name}".strip()
                        number = c.work_phone or c.phone or c.mobile or ""
                        company = c.account.name if c.account_id else ""
                        if any(lq in v.lower() for v in (name, c.email, company)) or any(
                                q in p for p in (c.work_phone, c.phone, c.mobile)):
                            hits.append(("contact", c.pk, name, number, c.email, company, None, rank(name, number),
                                         member.site_code, tenant.slug, tenant.name))
        connection.set_schema_to_public()
        hits.sort(key=lambda h: (h[7], h[2].lower().encode(), h[8], h[3], h[0], h[1]))
        return hits[:limit], len(hits)

    def timed(fn, rounds: int):
        times, queries = [], []
        for _ in range(rounds):
            for q in SEARCHES:
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    fn(q)
                    times.append((time.perf_counter() - started) * 1000)
                queries.append(len(captured.captured_queries))
        return times, queries

    results = []
    made = 0
    for level in levels:
        while made < level:
            add_member(made)
            made += 1
        print(f"measuring {level} members ...", file=sys.stderr, flush=True)
        members = selectors.directory_members(organization)
        for q in SEARCHES:  # same answers, and a warm cache for both
            ours = selectors.directory_search(members=members, q=q, limit=50)
            theirs, total = baseline(members, q)
            assert total == ours.total, (q, total, ours.total)
            assert [tuple(e) for e in ours.entries] == [tuple(h) for h in theirs], q
        path = f"/api/organization/{organization.pk}/directory/"

        def api(q):
            response = client.get(path, {"q": q, "limit": 50})
            assert response.status_code == 200, response.content

        api_t, api_q = timed(api, args.rounds)
        sel_t, sel_q = timed(lambda q: selectors.directory_search(members=members, q=q, limit=50), args.rounds)
        base_t, base_q = timed(lambda q: baseline(members, q), max(args.rounds // 4, 3))

        def naive_client(q):
            hits = []
            for member in members:
                for resource in ("extensions", "queues"):
                    response = client.get(f"/api/{resource}/{member.tenant.slug}/", {"search": q, "limit": 1000})
                    assert response.status_code == 200, response.content
                    hits += response.json()
            hits.sort(key=lambda h: (h["name"].lower(), h["number"]))
            return hits[:50]

        has_api = client.get(f"/api/extensions/{members[0].tenant.slug}/").status_code == 200
        client_t, client_q = timed(naive_client, 2) if has_api else ([], [])
        results.append((level, api_t, api_q, sel_t, sel_q, base_t, base_q, client_t, client_q))

    rows = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%%'")
        rows = cursor.fetchone()[0]
    print(f"\nShared directory search: members x {args.extensions} extensions + 5 queues"
          f"{' + 50 contacts (10 shared)' if Contact else ''} each; {rows} tenant schemas;"
          f" searches {', '.join(SEARCHES)}; limit 50")
    print(f"{'members':>7} {'api p50':>8} {'api p95':>8} {'api q':>6} {'sel p50':>8} {'sel q':>6} "
          f"{'base p50':>9} {'base q':>7} {'base/sel':>9} {'client p50':>11} {'client q':>9} {'client/api':>11}")
    for level, api_t, api_q, sel_t, sel_q, base_t, base_q, client_t, client_q in results:
        a50, s50, b50 = statistics.median(api_t), statistics.median(sel_t), statistics.median(base_t)
        c50 = statistics.median(client_t) if client_t else float("nan")
        print(f"{level:>7} {a50:>7.1f}ms {percentile(api_t, 95):>6.1f}ms {statistics.median(api_q):>6.0f} "
              f"{s50:>6.1f}ms {statistics.median(sel_q):>6.0f} {b50:>7.1f}ms {statistics.median(base_q):>7.0f} "
              f"{b50 / s50:>8.1f}x {c50:>9.1f}ms {statistics.median(client_q) if client_q else 0:>9.0f} "
              f"{c50 / a50:>10.1f}x")
    first, last = results[0], results[-1]
    growth = statistics.median(last[2]) - statistics.median(first[2])
    p50 = statistics.median(last[1])
    print(f"\n(q = statements per search, median; the API's include the key look-up, the organization and its "
          f"members;\n an occasional extra one is the key's last_used_at, written at most once a minute)")
    print(f"queries per API search at {first[0]} members: {statistics.median(first[2]):.0f}, at {last[0]} members: "
          f"{statistics.median(last[2]):.0f} ({'constant' if growth == 0 else f'{growth:+.0f}'}); "
          f"the search itself is 1 statement")
    print(f"target p50 <= {TEST_TARGET_P50_MS:.0f} ms at {last[0]} members: "
          f"{'met' if p50 <= TEST_TARGET_P50_MS else 'MISSED'} ({p50:.1f} ms)")
    connection.close()
    if not args.keep:
        recreate_database(drop_only=True)
    return 0 if growth == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
