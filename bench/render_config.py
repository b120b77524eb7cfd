#!/usr/bin/env python
"""Render a PBX server's configuration at scale (issue #3).

    .venv/bin/python bench/render_config.py [--tenants 200] [--extensions 50] [--small 5] [--rounds 3] [--keep]

In a dedicated database (thirdlane_bench_render_config, recreated each run, dropped unless
--keep; 127.0.0.1 only): one server hosting --tenants tenants (real tenant_create, schemas built
from the template), each with a queue (3 members), an IVR, a schedule + time condition, a DID, two
trunks and a route, and the PBX features of issue 12 (a ring group, a block list, a feature code,
follow-me, a conference, a parking lot, a paging group) and sound files (a prompt, the IVR's spoken prompt,
a music-on-hold class the queue plays); extensions are bulk-inserted inside each tenant's schema (SIP secrets and
voicemail PINs encrypted, as the services store them).

Measured, best of --rounds, with the query count of each:
  small     render with --small extensions per tenant
  render    render with --extensions per tenant: render_server() (UNION ALL loader + renderers)
  select    baseline: only the SELECTs of the loader (rows fetched, nothing converted or rendered)
  per-tenant baseline: the same renderers fed by one query per table per tenant (search path
            switched per tenant, what a straightforward loader does)
and validates the rendered files with the same checker a push uses (timed apart).

Target: render <= 2.0 s for 200 x 50 (10,000 endpoints); queries must not grow with extensions.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_render_config"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["CELERY_BROKER_URL"] = "memory://"  # tenant_create nudges the pool filler; keep it in-process


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB}"')


def measure(cases: dict, rounds: int) -> dict:
    """{name: (best seconds, queries, last result)}; the cases take turns in each round, so a
    noisy machine slows them alike."""
    from django.db import connection, reset_queries

    times = {name: [] for name in cases}
    results, queries = {}, {}
    for _ in range(rounds):
        for name, fn in cases.items():
            connection.set_schema_to_public()
            reset_queries()
            connection.force_debug_cursor = True
            try:
                t0 = time.perf_counter()
                results[name] = fn()
                times[name].append(time.perf_counter() - t0)
            finally:
                connection.force_debug_cursor = False
            queries[name] = len([q for q in connection.queries if not q["sql"].lstrip().upper().startswith("SET ")])
    return {name: (min(times[name]), queries[name], results[name]) for name in cases}


def populate(tenants: int, actor, server) -> list:
    from django_tenants.utils import tenant_context

    from apps.telephony import services as tel
    from apps.tenants.services import reseller_create, tenant_create

    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    made = []
    t0 = time.perf_counter()
    for i in range(tenants):
        tenant = tenant_create(actor=actor, slug=f"tenant-{i:04d}", name=f"Tenant {i}", reseller=reseller,
                               max_extensions=1000, primary_server=server)
        made.append(tenant)
        with tenant_context(tenant):
            pass
        a = tel.extension_create(actor=actor, tenant=tenant, number="9001", name="Reception",
                                 sip_secret="Bench-Reception-Secret-x1")
        b = tel.extension_create(actor=actor, tenant=tenant, number="9002", name="Sales desk",
                                 sip_secret="Bench-Sales-Secret-y2")
        agent = tel.agent_create(actor=actor, tenant=tenant, name="Agent", login_code="5001", extension=b.pk)
        queue = tel.queue_create(actor=actor, tenant=tenant, number="8000", name="Sales",
                                 members=[{"extension": a.pk}, {"extension": b.pk, "penalty": 1},
                                          {"agent": agent.pk, "penalty": 2}])
        ivr = tel.ivr_create(actor=actor, tenant=tenant, name="Menu", number="8100", greeting_recording="welcome",
                             options=[{"digit": "1", "dest": {"type": "queue", "id": queue.pk}},
                                      {"digit": "2", "dest": {"type": "extension", "id": a.pk}}],
                             invalid={"type": "hangup"}, timeout_dest={"type": "extension", "id": a.pk})
        hours = tel.schedule_create(actor=actor, tenant=tenant, name="Hours", timezone="America/New_York",
                                    weekly_ranges=[{"day_of_week": d, "start_time": dt.time(9),
                                                    "end_time": dt.time(17)} for d in range(5)],
                                    holidays=[{"name": "NY", "start_date": dt.date(2027, 1, 1)}])
        tc = tel.time_condition_create(actor=actor, tenant=tenant, name="Open", schedule=hours.pk,
                                       match={"type": "ivr", "id": ivr.pk},
                                       no_match={"type": "voicemail", "id": a.pk})
        tel.did_create(actor=actor, tenant=tenant, number=f"+1415555{i:04d}", dest={"type": "time_condition",
                                                                                  "id": tc.pk})
        t1 = tel.trunk_create(actor=actor, tenant=tenant, name="main", host="sip.carrier.example",
                              username=f"acct{i}", secret="Bench-Trunk-Secret-z3", max_channels=20)
        t2 = tel.trunk_create(actor=actor, tenant=tenant, name="backup", auth_type="ip_auth", host=f"203.0.113.{i % 250}")
        tel.outbound_route_create(actor=actor, tenant=tenant, name="Out", dial_patterns=["_NXXNXXXXXX", "_1NXXNXXXXXX"],
                                  trunks=[t1.pk, t2.pk])
        # PBX features (issue 12): a ring group, a block list, a feature code, follow-me.
        tel.ring_group_create(actor=actor, tenant=tenant, number="8200", name="Front desk",
                              members=[{"extension": a.pk}, {"extension": b.pk, "delay": 5},
                                       {"number": "+14155550177", "delay": 10}],
                              no_answer={"type": "voicemail", "id": a.pk})
        tel.block_list_create(actor=actor, tenant=tenant, name="Spam", block_anonymous=True,
                              entries=[{"value": "+14155550666"}, {"kind": "pattern", "value": "_+1900X."}])
        tel.feature_code_create(actor=actor, tenant=tenant, feature="dnd_toggle", code="*31")
        tel.conference_create(actor=actor, tenant=tenant, number="8300", name="Meeting", pin="2468",
                              admin_pin="13579", record=True)
        tel.parking_lot_create(actor=actor, tenant=tenant, name="Lot", number="8400", slot_start="8401",
                               slot_end="8410")
        tel.paging_group_create(actor=actor, tenant=tenant, number="8500", name="All", members=[a.pk, b.pk])
        tel.extension_update(actor=actor, tenant=tenant, instance=b, followme_enabled=True,
                             followme_numbers=["9001", "+14155550188"])
        # Sound files (apps.sounds): the rows a conversion leaves (the render reads rows, not audio):
        # the IVR's prompt "welcome", the prompt spoken for the IVR, a music-on-hold class the queue plays.
        from apps.sounds.models import SoundFile

        done = {"status": "ready", "checksum": "0" * 64, "duration_ms": 3000,
                "files": {"ulaw": {"sha256": "0" * 64, "bytes": 24000}, "wav": {"sha256": "0" * 64, "bytes": 48044}}}
        with tenant_context(tenant):
            SoundFile.objects.bulk_create([
                SoundFile(name="welcome", source="tts", text="Welcome.", language="en-us", **done),
                SoundFile(name=f"ivr-{ivr.pk}", source="tts", ivr_id=ivr.pk, text="Menu.", language="en-us", **done),
                SoundFile(name="track1", kind="moh", moh_class="jazz", original_format="mp3", **done)])
        tel.queue_update(actor=actor, tenant=tenant, instance=queue, music_on_hold="jazz")
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} tenants ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return made


def add_extensions(tenants: list, start: int, count: int) -> None:
    from django_tenants.utils import tenant_context

    from apps.telephony.models import Extension

    for i, tenant in enumerate(tenants):
        rows = [Extension(number=str(n), name=f"User {n}", email=f"u{n}@t{i}.example",
                          sip_secret=f"Bulk-Secret-{i}-{n}-Qx", voicemail_pin=f"{(n * 7919) % 9000 + 1000}",
                          caller_id_number=f"+1415555{i:04d}" if n % 2 else "", forward_no_answer="9001" if n % 5 == 0
                          else "", codecs=["g722", "ulaw"]) for n in range(start, start + count)]
        with tenant_context(tenant):
            Extension.objects.bulk_create(rows, batch_size=1000)


def per_tenant_render(server):
    """Baseline: the same renderers, the rows loaded tenant by tenant (search_path per tenant)."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from apps.pbx.render import loader, render_views
    from apps.pbx.render.view import TenantView

    views = []
    for info in loader.tenants_of_server(server.pk):
        data = loader.TenantData(info, {name: [] for name, _ in loader.TABLES})
        with schema_context(info.schema_name):
            for name, model in loader.TABLES:
                spec = loader._Table(model)
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT 0, {spec.select} FROM {spec.table}")
                    data.rows[name] = [row for _, row in spec.rows(cursor.fetchall())]
        views.append(TenantView(data))
    return render_views(views, server)


def select_only(server):
    """Baseline: just the loader's SELECT statements, rows fetched as tuples."""
    from django.db import connection

    from apps.pbx.render import loader

    tenants = loader.tenants_of_server(server.pk)
    total = 0
    with connection.cursor() as cursor:
        for start in range(0, len(tenants), loader.DEFAULT_CHUNK):
            group = tenants[start:start + loader.DEFAULT_CHUNK]
            for _, model in loader.TABLES:
                spec = loader._Table(model)
                cursor.execute(" UNION ALL ".join(
                    f'SELECT {t.id}, {spec.select} FROM "{t.schema_name}".{spec.table}' for t in group))
                total += len(cursor.fetchall())
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--extensions", type=int, default=50)
    parser.add_argument("--small", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from apps.accounts.principal import Principal
    from apps.pbx.models import Server
    from apps.pbx.render import render_server
    from apps.pbx.render.confcheck import validate

    try:
        print("setting up ...", file=sys.stderr, flush=True)
        call_command("bootstrap", no_pool=True, verbosity=0)
        actor = Principal.system("bench")
        server = Server.objects.create(name="pbx-bench", host="127.0.0.1", sip_address="127.0.0.1", ami_host="127.0.0.1",
                                       ami_username="portal", ami_secret="x", config_dir="/tmp")
        t0 = time.perf_counter()
        tenants = populate(args.tenants, actor, server)
        setup = time.perf_counter() - t0
        # 2 extensions come with each tenant's queue; bulk the rest up to --small, then --extensions.
        add_extensions(tenants, 1000, args.small - 2)
        small_t, small_q, small = measure({"render": lambda: render_server(server)}, args.rounds)["render"]
        add_extensions(tenants, 1000 + args.small - 2, args.extensions - args.small)
        results = measure({"render": lambda: render_server(server), "select": lambda: select_only(server),
                           "naive": lambda: per_tenant_render(server)}, args.rounds)
        render_t, render_q, rendered = results["render"]
        select_t, select_q, rows = results["select"]
        naive_t, naive_q, naive = results["naive"]
        t0 = time.perf_counter()
        problems = validate(rendered.files)
        validate_t = time.perf_counter() - t0
        assert naive.files == rendered.files, "the per-tenant baseline must render the same files"
        assert not problems, problems[:5]
        endpoints = rendered.files["pjsip.conf"].count("(tl-phone)")
        size = sum(len(t) for t in rendered.files.values())
        small_endpoints = small.files["pjsip.conf"].count("(tl-phone)")

        print(f"\nRender configuration: {args.tenants} tenants on one server (setup {setup:.0f} s)")
        print(f"  {'case':<38}{'seconds':>9}{'queries':>9}")
        print(f"  {f'render {args.tenants} x {args.small} ({small_endpoints} endpoints)':<38}{small_t:>9.3f}"
              f"{small_q:>9}")
        print(f"  {f'render {args.tenants} x {args.extensions} ({endpoints} endpoints)':<38}{render_t:>9.3f}"
              f"{render_q:>9}")
        print(f"  {f'baseline: SELECTs only ({rows} rows)':<38}{select_t:>9.3f}{select_q:>9}")
        print(f"  {'baseline: per-tenant loader + render':<38}{naive_t:>9.3f}{naive_q:>9}")
        print(f"  {'validate the rendered files':<38}{validate_t:>9.3f}")
        print(f"  output: {size / 1e6:.1f} MB in {len(rendered.files)} files, "
              f"{rendered.files['extensions.conf'].count(chr(10))} "
              f"dialplan lines")
        print(f"  queries grow with extensions: {'NO' if small_q == render_q else 'YES'} "
              f"({small_q} at {args.small}/tenant, {render_q} at {args.extensions}/tenant)")
        print(f"  ratio render / SELECTs only: {render_t / select_t:.2f}x")
        print(f"  ratio per-tenant baseline / render: {naive_t / render_t:.2f}x")
        print(f"  target <= 2.0 s: {'MET' if render_t <= 2.0 else 'MISSED'} ({render_t:.2f} s)")
        return 0
    finally:
        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
