#!/usr/bin/env python
"""Call control: originate request (API POST) -> the AMI action on the wire, with a running worker.

    .venv/bin/python bench/call_control.py [--requests 300] [--rate 20]

In a dedicated database (thirdlane_bench_cc, recreated each run) and Redis db 8: a gunicorn web
server (2 sync workers), one real ``celery -A thirdlane worker -c 1`` and a scripted AMI peer in
this process that notes when each Originate frame arrives and answers like the Asterisk 22
recording (queued, then OriginateResponse Success), so every job ends.

  baseline   the same Originate sent directly: AmiConnection connect + login + Originate, from the
             start to the frame arriving at the peer (what the worker does itself, without the API,
             the database and the broker)
  api        POST /api/call-control/<tenant>/originate/ -> 202 -> job committed -> task on the worker
             -> connect + login + Originate at the peer; requests one at a time at --rate per second.
             Reports p50/p99 of POST-start -> frame-arrival (target p99 <= 100 ms), the POST's own
             202 time, and the ratio to the baseline.

Benchmarks are not tests: this prints figures and the ratio against the baseline.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_cc"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = BROKER
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], log: str) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not happen within {timeout}s")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class ArrivalPeer:
    """A ScriptedAmiServer whose Originate handler notes each frame's arrival time by ActionID."""

    def __init__(self):
        from tests.calls import control_peers
        from tests.pbx.peers import ami_wire

        self.arrivals: dict[str, float] = {}
        self.event = threading.Event()
        answer = control_peers.originate()

        def originate(frame: bytes) -> bytes:
            self.arrivals[ami_wire.get(frame, "ActionID")] = time.time()
            self.event.set()
            return answer(frame)

        self.server = control_peers.peer(originate=originate).start()

    def wait(self, action_id: str, timeout: float = 10.0) -> float | None:
        deadline = time.time() + timeout
        while action_id not in self.arrivals and time.time() < deadline:
            self.event.wait(0.005)
            self.event.clear()
        return self.arrivals.get(action_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="API requests per second (one at a time)")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    print(f"database {DB}, broker {BROKER}; setting up ...", flush=True)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "bootstrap", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ.copy(), stdout=subprocess.DEVNULL)
    import django

    django.setup()
    import redis
    import requests
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.accounts.models import Scope
    from apps.accounts.principal import Principal
    from apps.accounts.services import api_key_create
    from apps.pbx.ami import AmiConnection
    from apps.pbx.services import location_create, server_create
    from apps.telephony import services as tel
    from apps.tenants.models import Tenant
    from apps.tenants.services import reseller_create, tenant_create

    redis.Redis.from_url(BROKER).flushdb()
    peer = ArrivalPeer()
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    tenant = tenant_create(actor=actor, slug="bench-co", name="Bench Co", reseller=reseller)
    location = location_create(actor=actor, code="fra", name="Frankfurt")
    server = server_create(actor=actor, name="pbx-bench", host="127.0.0.1", sip_address="127.0.0.1",
                           location=location, ami_host=peer.server.host, ami_port=peer.server.port,
                           ami_username="portal", ami_secret="portal-secret")
    Tenant.objects.filter(pk=tenant.pk).update(primary_server=server)
    with tenant_context(tenant):
        for number, name in (("1001", "Alice Adams"), ("1002", "Bob Brown")):
            tel.extension_create(actor=actor, tenant=tenant, number=number, name=name)
    key = api_key_create(actor=actor, name="bench", scope=Scope.TENANT, tenant=tenant).key
    connection.close()

    # --- baseline: the Originate alone, sent directly --------------------------------------------
    baseline = []
    for i in range(args.requests):
        action_id = f"base-{i}"
        started = time.time()
        with AmiConnection(server.ami_host, server.ami_port, "portal", "portal-secret", timeout=10,
                           events="call") as ami:
            ami.send_action("Originate", expect_event="OriginateResponse", ActionID=action_id,
                            Channel="PJSIP/1001-bench-co", Context="bench-co-internal", Exten="1002", Priority=1,
                            Async=True, CallerID='"Alice Adams" <1001>', Timeout=20000).result(10)
        baseline.append((peer.arrivals[action_id] - started) * 1000)
    print(f"baseline   p50 {pct(baseline, 50):6.1f} ms  p99 {pct(baseline, 99):6.1f} ms  "
          f"(connect + login + Originate to the peer, {len(baseline)} runs)", flush=True)

    tmp = tempfile.mkdtemp(prefix="bench-cc-")
    port = free_port()
    processes = [
        start([sys.executable, "-m", "gunicorn", "thirdlane.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
               "--log-level", "warning"], f"{tmp}/web.log"),
        start([sys.executable, "-m", "celery", "-A", "thirdlane", "worker", "-c", "1", "-P", "prefork",
               "--without-gossip", "--without-mingle", "-l", "INFO"], f"{tmp}/worker.log"),
    ]
    try:
        wait_until(lambda: b"ready." in Path(f"{tmp}/worker.log").read_bytes(), 60, "worker start")
        url = f"http://127.0.0.1:{port}/api/call-control/bench-co/originate/"
        session = requests.Session()
        session.headers["X-API-Key"] = key

        def up() -> bool:
            try:
                return session.get(f"http://127.0.0.1:{port}/api/call-control/bench-co/", timeout=2).ok
            except requests.RequestException:
                return False

        wait_until(up, 60, "web server start")
        latencies, posts, missing = [], [], 0
        interval = 1.0 / args.rate
        for i in range(args.warmup + args.requests):
            started = time.time()
            response = session.post(url, json={"extension": "1001", "number": "1002"}, timeout=10)
            replied = time.time()
            if response.status_code != 202:
                raise SystemExit(f"POST answered {response.status_code}: {response.text[:300]}")
            arrived = peer.wait(f"tl-cc-{response.json()['id']}-1")
            if i >= args.warmup:
                if arrived is None:
                    missing += 1
                else:
                    latencies.append((arrived - started) * 1000)
                    posts.append((replied - started) * 1000)
            time.sleep(max(0.0, started + interval - time.time()))
        p50, p99 = pct(latencies, 50), pct(latencies, 99)
        print(f"api        p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {max(latencies):6.1f} ms  "
              f"(POST start -> Originate at the peer, {len(latencies)} requests at {args.rate:g}/s, "
              f"{missing} missing)  target p99 <= 100 ms", flush=True)
        print(f"           POST -> 202: p50 {pct(posts, 50):.1f} ms  p99 {pct(posts, 99):.1f} ms", flush=True)
        print(f"ratio      api/baseline: p50 {p50 / pct(baseline, 50):.1f}x  p99 {p99 / pct(baseline, 99):.1f}x",
              flush=True)
        return 0 if p99 <= 100 and not missing else 1
    finally:
        for process in processes:
            stop(process)
        peer.server.close()


if __name__ == "__main__":
    sys.exit(main())
