#!/usr/bin/env python
"""AMI ingestion: events parsed, tenant-mapped and stored by one listener process.

    .venv/bin/python bench/ami_ingest.py [--calls 2000] [--rate 500] [--rate-seconds 10]

In a dedicated database (thirdlane_bench_ami, recreated each run) with two tenants on one server.
The events are the recorded Asterisk 22 ``sip-call`` and ``queue-call`` sessions (the events the
listener's AMI filter lets through: what the PBX sends it), repeated with fresh
Uniqueids/Linkedids, half of them for each tenant, as the bytes a socket would deliver:

  baseline    framing + parsing alone (AmiFrameParser + parse_event): events/s
  throughput  the same bytes through the real Ingestor (parse, map, track, batched writes of call
              records, legs and communications.* outbox rows by its flusher thread), from the
              first byte to the last commit: events/s (target >= 5,000) and the ratio to baseline
  latency     events fed at R events/s with the flusher running as in production: for each
              outbox row, event fed -> row committed, p50/p99 (target p99 <= 200 ms)

Benchmarks are not tests: this prints figures and the ratio against the baseline.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_ami"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def recorded_events(name: str) -> list[bytes]:
    """The recording's event frames that the listener's AMI filter lets through (what a PBX with
    the portal's filter sends), responses and the banner left out, each ending CRLF CRLF."""
    import re

    from apps.calls.tracker import event_filter
    from tests.pbx.peers.fixtures import load_transcript

    wanted = re.compile(event_filter().encode())
    data = load_transcript(name).data("server")
    frames = [f + b"\r\n\r\n" for f in data.split(b"\r\n\r\n")]
    return [f for f in frames if f.lstrip(b"\r\n").startswith(b"Event:") and b"ActionID:" not in f
            and wanted.search(f)]


def workload(calls: int, first: int = 0) -> list[tuple[bytes, int]]:
    """``calls`` calls' event frames, interleaved in small groups like a busy PBX; each frame with
    the index of its call."""
    import re

    templates = [recorded_events("sip-call"), recorded_events("queue-call")]
    ids = re.compile(rb"(?<=: )1795750(9\d\d)\.(\d+)")
    out = []
    for n in range(first, first + calls):
        template = templates[n % 2]
        tenant = b"acme" if n % 4 < 2 else b"globex"

        def renumber(m, n=n):
            return b"%d.%s" % (1800000000 + n, m.group(2))

        for frame in template:
            frame = ids.sub(renumber, frame)
            if tenant != b"acme":
                frame = frame.replace(b"-acme", b"-" + tenant).replace(b"acme-", tenant + b"-")
            out.append((frame, n))
    return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=500, help="events/s for the latency run")
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.accounts.principal import Principal
    from apps.calls import ingest as ingest_module
    from apps.calls.ingest import Ingestor
    from apps.events import services as event_services
    from apps.events.models import OutboxEvent
    from apps.pbx.ami.events import parse_event
    from apps.pbx.ami.framing import AmiFrameParser
    from apps.pbx.services import server_create
    from apps.tenants.models import Tenant
    from apps.tenants.services import reseller_create, tenant_create

    print("setting up ...", file=sys.stderr, flush=True)
    call_command("bootstrap", no_pool=True, verbosity=0)
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    server = server_create(actor=actor, name="pbx-bench", host="127.0.0.1", sip_address="127.0.0.1",
                           ami_host="127.0.0.1", ami_username="portal", ami_secret="bench-secret")
    for slug in ("acme", "globex"):
        tenant_create(actor=actor, slug=slug, name=slug.title(), reseller=reseller, primary_server=server)
    connection.set_schema_to_public()

    frames = workload(args.calls)
    data = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(f for f, _ in frames)
    chunks = [data[i:i + 4096] for i in range(0, len(data), 4096)]  # what recv() hands over
    total_events = len(frames)
    print(f"workload: {args.calls} calls, {total_events} events, {len(data) / 1e6:.1f} MB", flush=True)

    # --- baseline: framing and parsing alone ------------------------------------------------------
    t0 = time.perf_counter()
    parser_ = AmiFrameParser()
    parsed = 0
    for chunk in chunks:
        for message in parser_.feed(chunk):
            parse_event(message)
            parsed += 1
    base_rate = parsed / (time.perf_counter() - t0)
    print(f"baseline   parse only: {parsed} events, {base_rate:,.0f} events/s", flush=True)

    # --- throughput: the real ingestor, to the last commit ----------------------------------------
    ingestor = Ingestor(server)
    ingestor.start()
    t0 = time.perf_counter()
    parser_ = AmiFrameParser()
    for chunk in chunks:
        for message in parser_.feed(chunk):
            ingestor.feed(message)
    ingestor.stop()  # the final flush: everything is committed when it returns
    elapsed = time.perf_counter() - t0
    rate = total_events / elapsed
    counts = {}
    for tenant in Tenant.objects.all():
        from django_tenants.utils import schema_context

        from apps.calls.models import Call

        with schema_context(tenant.schema_name):
            counts[tenant.slug] = Call.objects.count()
    events = OutboxEvent.objects.filter(type__startswith="communications.").count()
    print(f"throughput ingest:    {total_events} events in {elapsed:.2f}s, {rate:,.0f} events/s "
          f"(target >= 5,000); {rate / base_rate:.2f}x the parse-only baseline; calls {counts}, "
          f"{events} outbox rows, flush errors {ingestor.flush_errors}", flush=True)

    # --- latency: paced feed, event fed -> outbox row committed -----------------------------------
    OutboxEvent.objects.all().delete()
    first_fed: dict[int, float] = {}  # call index -> when its first event was fed (-> ringing)
    last_fed: dict[int, float] = {}  # call index -> when its latest event was fed (the last: -> ended)
    committed: list[float] = []
    lock = threading.Lock()
    original = event_services.emit_events

    def emit_events(**kwargs):
        rows = original(**kwargs)
        kind = kwargs["type"]
        calls = [int(str(row.data.get("call_id", "0")).split(".")[0]) - 1800000000 for row in rows]

        def record():
            now = time.perf_counter()
            with lock:
                if kind == "communications.call.ringing":
                    committed.extend(now - first_fed[c] for c in calls if c in first_fed)
                elif kind == "communications.call.ended":
                    committed.extend(now - last_fed[c] for c in calls if c in last_fed)
        transaction.on_commit(record)
        return rows

    ingest_module.store.emit_events = emit_events  # the name the store calls
    paced_calls = max(4, int(args.rate * args.rate_seconds / (total_events / args.calls)))
    paced = workload(paced_calls, first=100000)
    ingestor = Ingestor(server)
    ingestor.start()
    parser_ = AmiFrameParser()
    parser_.feed(b"Asterisk Call Manager/11.0.0\r\n")
    interval = 1.0 / args.rate
    t0 = time.perf_counter()
    for i, (frame, n) in enumerate(paced):
        target = t0 + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        for message in parser_.feed(frame):
            with lock:
                first_fed.setdefault(n, time.perf_counter())
                last_fed[n] = time.perf_counter()
            ingestor.feed(message)
    ingestor.stop()
    sent = len(paced) / (time.perf_counter() - t0)
    ms = [v * 1000 for v in committed]
    print(f"latency    at {sent:,.0f} events/s for {len(paced)} events: {len(ms)} ringing/ended rows, "
          f"event -> committed p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms (target <= 200), "
          f"max {max(ms) if ms else float('nan'):.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
