#!/usr/bin/env python
"""Webhook delivery: throughput, commit-to-first-attempt latency, and a worker crash.

    .venv/bin/python bench/webhooks.py [--events 10000] [--rate 100] [--rate-seconds 20] [--crash-events 3000]

In a dedicated database (thirdlane_bench_webhooks, recreated each run) and Redis db 8, with a
loopback receiver in its own process (it verifies every signature with ``standardwebhooks``),
two real ``celery -A thirdlane worker`` processes (``-c 1`` each) and ``celery beat``:

  baseline    a plain ``requests.Session().post`` loop to the same receiver (signed bodies too)
  throughput  N events committed as fast as possible, each fanned out to 3 subscriptions:
              deliveries/s from the first commit to the last delivery received (target >= 500)
  latency     events committed one per transaction at R/s: commit -> first attempt received,
              p50/p99 (target p99 <= 500 ms)
  crash       events fanned out to 3 subscriptions; one worker SIGKILLed mid-run: lost and
              unsigned deliveries (target 0 and 0) and how long recovery took

Benchmarks are not tests: this prints figures and the ratio against the baseline.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_webhooks"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")


# --- the receiver (own process, so it does not share the producer's GIL) ---------------------

def run_receiver(port_pipe, secrets: dict[str, str]) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Lock

    from standardwebhooks import Webhook

    hooks = {path: Webhook(secret) for path, secret in secrets.items()}
    seen: list = []  # (path, webhook-id, verified, arrival wall time)
    lock = Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms per request.
        wbufsize = -1
        disable_nagle_algorithm = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request: not a delivery
                self.close_connection = True
                return
            at = time.time()
            path = self.path.strip("/")
            try:
                hooks[path].verify(body, dict(self.headers.items()))
                ok = True
            except Exception:
                ok = False
            with lock:
                seen.append((path, self.headers.get("webhook-id"), ok, at))
            self._answer(b"ok")

        def do_GET(self):
            with lock:
                data = list(seen)
                if self.path.startswith("/reset"):
                    seen.clear()
            self._answer(json.dumps(data).encode() if self.path.startswith("/stats") else b"{}")

        def _answer(self, payload: bytes):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *a: None
    port_pipe.send(server.server_address[1])
    server.serve_forever()


class ReceiverProcess:
    def __init__(self, secrets: dict[str, str]):
        parent, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(target=run_receiver, args=(child, secrets),
                                                                   daemon=True)
        self.process.start()
        self.port = parent.recv()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def stats(self) -> list:
        with urllib.request.urlopen(self.url("stats"), timeout=30) as r:
            return json.loads(r.read())

    def count(self) -> int:
        return len(self.stats())

    def reset(self) -> None:
        urllib.request.urlopen(self.url("reset"), timeout=30).read()


# --- processes ------------------------------------------------------------------------------

def start_worker(name: str, tmp: str) -> subprocess.Popen:
    # INFO logs (task received / succeeded in N s) go to a file: the run reports slow tasks.
    log = open(f"{tmp}/{name}.log", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "thirdlane", "worker", "-c", "1", "-P", "prefork", "-n",
         f"{name}@bench", "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": "INFO"}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)


def slow_tasks(tmp: str, over: float = 1.0) -> list[str]:
    import re

    found = []
    for name in ("w1", "w2"):
        try:
            text = open(f"{tmp}/{name}.log").read()
        except OSError:
            continue
        for m in re.finditer(r"Task (\S+)\[[^\]]+\] succeeded in ([0-9.]+)s", text):
            if float(m.group(2)) > over:
                found.append(f"{name}: {m.group(1)} {float(m.group(2)):.1f} s")
    return found


def start_beat(tmp: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "thirdlane", "beat", "-s", f"{tmp}/beat-schedule", "-l", "WARNING",
         "--pidfile", f"{tmp}/beat.pid"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- the run ---------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--rate-seconds", type=int, default=20)
    parser.add_argument("--crash-events", type=int, default=3000)
    parser.add_argument("--baseline-posts", type=int, default=5000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--only", default="baseline,throughput,latency,crash", help="phases to run")
    args = parser.parse_args()
    phases = set(args.only.split(","))

    print(f"database {DB}, broker {BROKER}; setting up ...", flush=True)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "bootstrap", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ.copy(), stdout=subprocess.DEVNULL)
    import django

    django.setup()
    import redis
    from django.db import connection, transaction

    from apps.accounts.principal import Principal
    from apps.events.services import emit_event
    from apps.tenants.services import reseller_create, tenant_create
    from apps.webhooks import services
    from apps.webhooks.delivery import request_for
    from apps.webhooks.models import Delivery, Subscription

    redis.Redis.from_url(BROKER).flushdb()
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    tenant = tenant_create(actor=actor, slug="bench-co", name="Bench Co", reseller=reseller)
    names = ["crm", "all", "ops"]
    subs = {}
    receiver = None
    # subscriptions need the receiver's URL and the receiver needs their secrets: make them with a
    # placeholder URL, start the receiver with the secrets, then point them at it
    for name in names:
        subs[name] = services.subscription_create(actor=actor, tenant=tenant, url="http://127.0.0.1:9/x",
                                                  event_types=["crm.*"] if name == "crm" else ["*"])
    receiver = ReceiverProcess({name: sub.secret for name, sub in subs.items()})
    for name, sub in subs.items():
        Subscription.objects.filter(pk=sub.pk).update(url=receiver.url(name))
    connection.close()

    results: dict = {}
    baseline = float("nan")
    tmp = tempfile.mkdtemp(prefix="bench-webhooks-")
    processes: list[subprocess.Popen] = []
    try:
        # --- baseline: the same receiver, a plain keep-alive requests loop ---------------------
        if "baseline" in phases:
            import requests

            session = requests.Session()
            sample = Delivery(subscription=subs["all"], event_type="crm.contact.created", message_id="msg_baseline",
                              payload={"type": "crm.contact.created", "data": {"id": 1}})
            started = time.perf_counter()
            for _ in range(args.baseline_posts):
                body, headers = request_for(sample, subs["all"])
                session.post(receiver.url("all"), data=body, headers=headers, timeout=15)
            baseline = args.baseline_posts / (time.perf_counter() - started)
            results["baseline_posts_per_s"] = baseline
            receiver.reset()
            print(f"baseline   {baseline:8.0f} signed POSTs/s (one requests.Session loop, same receiver)", flush=True)

        processes += [start_worker("w1", tmp), start_worker("w2", tmp), start_beat(tmp)]
        time.sleep(6)  # workers up
        per_tx = 100

        # --- throughput --------------------------------------------------------------------
        if "throughput" in phases:
            expected = args.events * 3
            started = time.time()
            for start in range(0, args.events, per_tx):
                with transaction.atomic():
                    for i in range(start, min(start + per_tx, args.events)):
                        emit_event(type="crm.contact.created", data={"id": i, "name": f"Contact {i}"}, tenant=tenant)
            committed = time.time()
            got = wait_for(lambda: receiver.count() >= expected, timeout=600, interval=0.5)
            seen = receiver.stats()
            last = max(s[3] for s in seen) if seen else time.time()
            rate = len(seen) / (last - started)
            unsigned = sum(1 for s in seen if not s[2])
            results.update(throughput_deliveries=len(seen), throughput_per_s=rate, throughput_unsigned=unsigned)
            print(f"throughput {rate:8.0f} deliveries/s  ({len(seen)}/{expected} delivered, {unsigned} unsigned; "
                  f"{args.events} events committed in {committed - started:.1f} s; ratio to baseline "
                  f"{(f'{rate / baseline:.2f}x' if baseline == baseline else 'n/a')})  target >= 500/s", flush=True)
            if not got:
                print("           WARNING: not everything arrived within the timeout", flush=True)
            receiver.reset()

        # --- latency at a steady rate --------------------------------------------------------
        if "latency" in phases:
            commits: dict[str, float] = {}
            interval = 1.0 / args.rate
            total = args.rate * args.rate_seconds
            next_at = time.time()
            for i in range(total):
                with transaction.atomic():
                    event = emit_event(type="crm.contact.updated", data={"id": i}, tenant=tenant)
                commits[f"msg_{event.event_id.hex}"] = time.time()
                next_at += interval
                delay = next_at - time.time()
                if delay > 0:
                    time.sleep(delay)
            wait_for(lambda: receiver.count() >= total * 3, timeout=120, interval=0.5)
            seen = receiver.stats()
            firsts: dict[tuple, float] = {}
            for path, message_id, ok, at in seen:
                key = (path, message_id)
                firsts[key] = min(at, firsts.get(key, at))
            latencies = [(at - commits[mid]) * 1000 for (path, mid), at in firsts.items() if mid in commits]
            p50, p99 = pct(latencies, 50), pct(latencies, 99)
            order = {mid: n for n, mid in enumerate(commits)}
            slow = sorted(((at - commits[mid]) * 1000, order[mid]) for (path, mid), at in firsts.items()
                          if mid in commits and (at - commits[mid]) > 0.5)
            results["latency_over_500ms"] = len(slow)
            if slow:
                print(f"           {len(slow)} deliveries over 500 ms; slowest (ms, event #): "
                      f"{[(round(ms), n) for ms, n in slow[-5:]]}; worker tasks over 1 s so far: "
                      f"{slow_tasks(tmp) or 'none'}", flush=True)
            results.update(latency_p50_ms=p50, latency_p99_ms=p99, latency_samples=len(latencies))
            print(f"latency    p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {max(latencies):6.1f} ms  commit -> first "
                  f"attempt, {len(latencies)} deliveries at {args.rate} events/s  target p99 <= 500 ms", flush=True)
            receiver.reset()

        # --- crash: SIGKILL one worker mid-run ------------------------------------------------
        if "crash" in phases:
            crash_started = time.time()
            first_id = None
            for start in range(0, args.crash_events, per_tx):
                with transaction.atomic():
                    for i in range(start, min(start + per_tx, args.crash_events)):
                        event = emit_event(type="crm.contact.deleted", data={"id": i}, tenant=tenant)
                        first_id = first_id or event.pk
            expected = args.crash_events * 3
            wait_for(lambda: receiver.count() >= expected // 3, timeout=120, interval=0.05)
            stop(processes[0], signal.SIGKILL)
            killed_at = time.time()
            received_at_kill = receiver.count()
            print(f"crash      SIGKILLed worker w1 at {received_at_kill}/{expected} deliveries; waiting for recovery "
                  f"(beat sweeps every 5 s, stale nudges after 30 s) ...", flush=True)
            done = wait_for(lambda: not Delivery.objects.filter(event_id__gte=first_id, status="pending").exists()
                            and receiver.count() >= expected, timeout=300, interval=0.5)
            connection.close()
            seen = receiver.stats()
            pairs = {(path, mid) for path, mid, ok, at in seen}
            wanted = {(name, m) for name in names
                      for m in Delivery.objects.filter(event_id__gte=first_id, subscription=subs[name])
                      .values_list("message_id", flat=True)}
            lost = len(wanted - pairs)
            unsigned = sum(1 for s in seen if not s[2])
            duplicates = len(seen) - len(pairs)
            failed = Delivery.objects.filter(event_id__gte=first_id).exclude(status="succeeded").count()
            recovered = max(s[3] for s in seen) - killed_at
            results.update(crash_expected=len(wanted), crash_lost=lost, crash_unsigned=unsigned,
                           crash_duplicates=duplicates, crash_not_succeeded=failed, crash_recovery_s=recovered)
            print(f"crash      lost {lost}  unsigned {unsigned}  duplicates {duplicates} (at-least-once)  "
                  f"not succeeded {failed}; all {len(wanted)} delivered {recovered:.1f} s after the kill "
                  f"({time.time() - crash_started:.1f} s run){'' if done else '  (TIMED OUT)'}  target 0 lost, 0 unsigned",
                  flush=True)
    finally:
        for p in processes:
            stop(p, signal.SIGKILL if p is processes[0] else signal.SIGTERM)
        if receiver:
            receiver.process.terminate()
        connection.close()
        if not args.keep_db:
            drop_database()
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
