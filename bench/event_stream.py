#!/usr/bin/env python
"""The real-time event stream: many SSE clients, commit -> client latency, memory per client.

    .venv/bin/python bench/event_stream.py [--clients 500] [--tenants 2] [--rate 200] [--seconds 15]

In a dedicated database (thirdlane_bench_stream, recreated each run) and Redis db 6, with one
stream process (``uvicorn thirdlane.asgi``, one worker, as bin/run starts it):

  emitters    one process per tenant commits ``--rate`` events/s of its tenant, one event per
              transaction through ``emit_event`` (so commits of different tenants interleave and
              sometimes land out of id order, as in production); each records its commit times
  baseline    1 client on the first tenant, the same emitters: p50/p99 commit -> client
  load        ``--clients`` clients split over the tenants (each receives every event of its
              tenant), in ``--client-procs`` processes: p50/p99 commit -> client, events lost or
              received twice (target 0 / 0), p99 (target <= 500 ms) and its ratio to the baseline
  memory      the stream process's RSS with the clients connected minus its RSS idle, per client

Clients are plain asyncio sockets that find ``id:`` lines in what arrives, so the clients'
own cost stays small; they share the machine's two cores with the server, PostgreSQL and the
emitters. Benchmarks are not tests: this prints figures and the ratio against the baseline.
"""
from __future__ import annotations

import argparse
import array
import asyncio
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_stream"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = REDIS_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ["RATE_LIMIT_ENABLED"] = "0"  # 500 connections in a second from one key would be limited

ID_RE = re.compile(rb"^id: (\d+)$", re.M)


# --- clients (own processes, no Django) ------------------------------------------------------

def run_clients(pipe, port: int, specs: list[tuple[str, str]]) -> None:
    """Open one stream per (tenant slug, key); record when each event id arrives on each."""
    # Per client: the ids received and when (one time per read: every id in it arrived then).
    got_ids = [array.array("q") for _ in specs]
    got_times = [array.array("d") for _ in specs]
    per_client = [{"dups": 0, "last": 0, "status": None} for _ in specs]
    stop = asyncio.Event()

    async def one(index: int, slug: str, key: str) -> None:
        stats, ids, times = per_client[index], got_ids[index], got_times[index]
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(f"GET /api/events/{slug}/stream HTTP/1.1\r\nHost: bench\r\nX-API-Key: {key}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        stats["status"] = int(head.split(b" ", 2)[1])
        buf = b""
        try:
            while not stop.is_set():
                data = await reader.read(1 << 16)
                if not data:
                    break
                now = time.time()
                buf += data
                cut = buf.rfind(b"\n\n")
                if cut < 0:
                    continue
                block, buf = buf[:cut], buf[cut + 2:]
                found = [int(i) for i in ID_RE.findall(block)]
                if not found:
                    continue
                # In order and each once, or counted as received twice.
                if found[0] <= stats["last"] or any(b <= a for a, b in zip(found, found[1:])):
                    kept = []
                    for event_id in found:
                        if event_id <= stats["last"]:
                            stats["dups"] += 1
                        else:
                            kept.append(event_id)
                            stats["last"] = event_id
                    found = kept
                else:
                    stats["last"] = found[-1]
                ids.extend(found)
                times.extend([now] * len(found))
        finally:
            writer.close()

    async def main() -> None:
        tasks = [asyncio.create_task(one(i, slug, key)) for i, (slug, key) in enumerate(specs)]
        while sum(1 for c in per_client if c["status"] is not None) < len(specs):
            await asyncio.sleep(0.05)
        pipe.send({"connected": len(specs), "statuses": sorted({c["status"] for c in per_client})})
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.poll, None)  # the parent says "stop"
        pipe.recv()
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    commits: dict[int, tuple[str, float]] = pipe.recv()  # event id -> (tenant slug, commit time)
    latencies = array.array("d")
    for ids, times in zip(got_ids, got_times):
        for event_id, at in zip(ids, times):
            committed = commits.get(event_id)
            if committed is not None:
                latencies.append(at - committed[1])
    expected: dict[str, int] = {}
    for slug, _ in commits.values():
        expected[slug] = expected.get(slug, 0) + 1
    lost = 0
    for (slug, _), ids in zip(specs, got_ids):
        lost += expected.get(slug, 0) - sum(1 for i in ids if i in commits)
    pipe.send({"latencies": latencies.tobytes(), "lost": lost, "dups": sum(c["dups"] for c in per_client),
               "received": sum(len(ids) for ids in got_ids)})


# --- emitters (own processes, Django) --------------------------------------------------------

def run_emitter(pipe, tenant_id: int, rate: float, seconds: float, start_at: float) -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from apps.events.services import emit_event
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    commits: dict[int, tuple[str, float]] = {}
    total = int(rate * seconds)
    while time.time() < start_at:
        time.sleep(0.001)
    for k in range(total):
        due = start_at + k / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            event = emit_event(type="crm.contact.updated", data={"id": k, "name": f"Contact {k}"}, tenant=tenant)
        commits[event.pk] = (tenant.slug, time.time())
    connection.close()
    pipe.send({"commits": commits, "achieved": total / max(time.time() - start_at, 1e-9)})


# --- helpers ---------------------------------------------------------------------------------

def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def pct(values, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "thirdlane.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--timeout-graceful-shutdown", "3", "--backlog", "2048"],
        cwd=ROOT, env=os.environ.copy(), stdout=open(log_path, "wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited: {log_path.read_text()[-2000:]}")
        if "Application startup complete" in log_path.read_text(errors="replace"):
            return process
        time.sleep(0.1)
    raise SystemExit("uvicorn did not start")


def run_phase(ctx, port: int, specs: list[tuple[str, str]], procs: int, tenants: list[tuple[int, str]],
              rate: float, seconds: float, server_pid: int) -> dict:
    pipes, workers = [], []
    for i in range(procs):
        part = specs[i::procs]
        if not part:
            continue
        parent, child = ctx.Pipe()
        process = ctx.Process(target=run_clients, args=(child, port, part), daemon=True)
        process.start()
        pipes.append(parent)
        workers.append(process)
    statuses = set()
    for pipe in pipes:
        statuses |= set(pipe.recv()["statuses"])
    if statuses != {200}:
        raise SystemExit(f"streams answered {statuses}")
    time.sleep(1.0)  # let every stream reach the live phase
    rss_connected = rss_kib(server_pid)
    cpu_before = cpu_seconds(server_pid)
    start_at = time.time() + 1.0
    emitters = []
    for tenant_id, _ in tenants:
        parent, child = ctx.Pipe()
        process = ctx.Process(target=run_emitter, args=(child, tenant_id, rate, seconds, start_at), daemon=True)
        process.start()
        emitters.append((parent, process))
    peak = rss_connected
    commits: dict = {}
    achieved = []
    for parent, process in emitters:
        while not parent.poll(0.5):
            peak = max(peak, rss_kib(server_pid))
        result = parent.recv()
        commits.update(result["commits"])
        achieved.append(result["achieved"])
        process.join()
    time.sleep(2.0)  # the last events' way to the clients
    server_cpu = (cpu_seconds(server_pid) - cpu_before) / (time.time() - start_at)
    for pipe in pipes:
        pipe.send("stop")
    for pipe in pipes:
        pipe.send(commits)
    latencies, lost, dups, received = array.array("d"), 0, 0, 0
    for pipe in pipes:
        result = pipe.recv()
        chunk = array.array("d")
        chunk.frombytes(result["latencies"])
        latencies.extend(chunk)
        lost += result["lost"]
        dups += result["dups"]
        received += result["received"]
    for process in workers:
        process.join(10)
    return {"clients": len(specs), "events": len(commits), "deliveries": received, "lost": lost, "dups": dups,
            "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000,
            "max_ms": max(latencies) * 1000 if latencies else float("nan"),
            "achieved_rate_per_tenant": round(min(achieved), 1), "rss_connected_kib": rss_connected,
            "rss_peak_kib": peak, "server_cpu_share": round(server_cpu, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200, help="events/s committed per tenant")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print(f"database {DB}, Redis {REDIS_URL}; setting up ...", flush=True)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "bootstrap", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ.copy(), stdout=subprocess.DEVNULL)
    import django

    django.setup()
    from django.db import connection

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.tenants.services import reseller_create, tenant_create

    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    tenants, keys = [], {}
    for i in range(args.tenants):
        tenant = tenant_create(actor=actor, slug=f"stream-{i}", name=f"Stream {i}", reseller=reseller)
        tenants.append((tenant.pk, tenant.slug))
        keys[tenant.slug] = api_key_create(actor=actor, name="bench", scope=Scope.TENANT, tenant=tenant).key
    connection.close()

    ctx = multiprocessing.get_context("spawn")
    port = free_port()
    log_path = ROOT / ".local" / "bench-event-stream.log"
    log_path.parent.mkdir(exist_ok=True)
    server = start_server(port, log_path)
    results: dict = {}
    try:
        # Warm the process (imports, first handshake, the poller's connection), then measure idle.
        run_phase(ctx, port, [(tenants[0][1], keys[tenants[0][1]])], 1, tenants[:1], 10, 1, server.pid)
        time.sleep(1.0)
        rss_idle = rss_kib(server.pid)
        print("baseline: 1 client ...", flush=True)
        base = run_phase(ctx, port, [(tenants[0][1], keys[tenants[0][1]])], 1, tenants, args.rate, args.seconds,
                         server.pid)
        print(f"  {json.dumps(base)}", flush=True)
        time.sleep(1.0)
        rss_idle = min(rss_idle, rss_kib(server.pid))
        specs = [(tenants[i % len(tenants)][1], keys[tenants[i % len(tenants)][1]]) for i in range(args.clients)]
        print(f"load: {args.clients} clients over {len(tenants)} tenants, {args.rate:g} events/s per tenant, "
              f"{args.seconds:g} s ...", flush=True)
        load = run_phase(ctx, port, specs, args.client_procs, tenants, args.rate, args.seconds, server.pid)
        print(f"  {json.dumps(load)}", flush=True)
        per_client = (load["rss_connected_kib"] - rss_idle) / args.clients
        per_client_peak = (load["rss_peak_kib"] - rss_idle) / args.clients
        results = {"baseline": base, "load": load, "rss_idle_kib": rss_idle,
                   "kib_per_client_connected": round(per_client, 1), "kib_per_client_peak": round(per_client_peak, 1),
                   "p99_ratio": round(load["p99_ms"] / base["p99_ms"], 2) if base["p99_ms"] else None}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if not args.keep_db:
            drop_database()
    load, base = results["load"], results["baseline"]
    print()
    print(f"baseline (1 client):       p50 {base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms")
    print(f"{load['clients']} clients:               p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, "
          f"max {load['max_ms']:.1f} ms  (target p99 <= 500 ms)")
    print(f"  deliveries {load['deliveries']} of {load['events']} events; lost {load['lost']}, "
          f"received twice {load['dups']} (target 0 / 0); emit rate achieved {load['achieved_rate_per_tenant']}/s "
          f"per tenant")
    print(f"  p99 ratio to the baseline: {results['p99_ratio']}x; the stream process used "
          f"{load['server_cpu_share']:.2f} of a core (baseline {base['server_cpu_share']:.2f})")
    print(f"memory: idle {results['rss_idle_kib'] / 1024:.1f} MiB; {results['kib_per_client_connected']} KiB per "
          f"client connected, {results['kib_per_client_peak']} KiB per client at the peak of the load")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
