#!/usr/bin/env python
"""SMS: outbound messages handed to the Python reference adapter, and inbound messages through it.

    .venv/bin/python bench/sms.py [--messages 1000] [--workers 4] [--clients 8]

In a dedicated database (thirdlane_bench_sms, recreated each run) and Redis db 9: a gunicorn web
server (3 sync workers), a real ``celery -A thirdlane worker`` (prefork, --workers processes), the
Python reference adapter (adapters/sms/python, a process) and the fake carrier of the conformance
suite (in this process; its status reports are off so only the measured traffic flows).

  queueing   --messages sends through ``message_send`` (the API's service: checks, row, audit entry,
             outbox index), one transaction each, their Celery messages held back.
  outbound   then a drain per worker process (``sms.drain``: batches of SMS_BATCH_SIZE, POSTed in
             parallel); timed until the last one is ``sent`` (the adapter took it to the carrier, the
             portal recorded the carrier id and the event). Target >= 200/s.
  inbound    --messages carrier messages from distinct numbers (every --known-every-th a CRM contact)
             POSTed to the adapter's /carrier by --clients threads; the adapter batches what arrives
             together and POSTs it, signed, to the portal's inbound batch endpoint, which routes,
             stores each once, matches the contact, writes the CRM note and the event; each carrier
             request is answered once its message is stored. Target >= 200/s.
  baseline   the same number of bare POSTs, same client threads, to a stdlib HTTP server that only
             answers 200: what the HTTP round trips alone cost on this machine.

Benchmarks are not tests: this prints figures and the ratios against the baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_sms"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = BROKER
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "text")
os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
os.environ["SMS_RATE_PER_TENANT"] = "1000000"
os.environ["RATE_LIMIT_ENABLED"] = "false"
DID, CONTACT = "+14155550199", "+14155550100"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env or os.environ.copy(), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


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
        time.sleep(0.05)
    raise SystemExit(f"{what} did not happen within {timeout}s")


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def post_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, int]:
    """POST every body with ``clients`` threads (one keep-alive connection each); (seconds, non-2xx)."""
    import http.client

    local = threading.local()
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    bad, resets = [], []

    def one(body: bytes) -> None:
        for attempt in (1, 2):  # a connection reset: once more on a new one (the portal is idempotent)
            conn = getattr(local, "conn", None) or http.client.HTTPConnection(host, int(port), timeout=30)
            local.conn = conn
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                local.conn = None
                if attempt == 2:
                    raise
                resets.append(1)
        if not 200 <= response.status < 300:
            bad.append(response.status)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, bodies))
    if resets:
        print(f"  ({len(resets)} connection(s) reset and retried)", flush=True)
    return time.perf_counter() - started, len(bad)


class BareServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def sender_of(i: int) -> str:
    return f"+1415556{i:04d}"


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--clients", type=int, default=32, help="carrier connections posting inbound messages at once")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--known-every", type=int, default=10,
                        help="inbound senders: every n-th is a CRM contact (a CRM note is written for it)")
    args = parser.parse_args()

    print(f"database {DB}, broker {BROKER}; setting up ...", flush=True)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "bootstrap", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ.copy(), stdout=subprocess.DEVNULL)
    import django

    django.setup()
    import redis
    from django_tenants.utils import tenant_context

    from apps.accounts.principal import Principal
    from apps.crm.services import contact_create
    from apps.sms.models import SmsMessage
    from apps.sms.providers.services import provider_create, provider_update
    from apps.sms import services as sms_services
    from apps.sms.services import message_send
    from apps.sms.tasks import drain
    from apps.telephony.services import did_create
    from apps.tenants.services import reseller_create, tenant_create
    from tests.sms.conformance.carrier import TOKEN, FakeCarrier

    redis.Redis.from_url(BROKER).flushdb()
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench")
    tenant = tenant_create(actor=actor, slug="bench-co", name="Bench Co", reseller=reseller)
    with tenant_context(tenant):
        did_create(actor=actor, tenant=tenant, number=DID, sms_enabled=True)
        contact_create(actor=actor, tenant=tenant, first_name="Ada", last_name="Lovelace", phone=CONTACT)
        for i in range(0, args.messages, args.known_every):
            contact_create(actor=actor, tenant=tenant, first_name="Sender", last_name=str(i), phone=sender_of(i))
    provider = provider_create(actor=actor, name="Bench carrier", url="http://127.0.0.1:9/")

    carrier = FakeCarrier(reports=False)
    web_port, adapter_port = free_port(), free_port()
    logs = ROOT / ".local"
    logs.mkdir(exist_ok=True)
    processes = []
    try:
        web = start([sys.executable, "-m", "gunicorn", "thirdlane.wsgi", "--workers", str(args.web_workers), "--bind",
                     f"127.0.0.1:{web_port}"], str(logs / "bench-sms-web.log"))
        processes.append(web)
        worker = start([sys.executable, "-m", "celery", "-A", "thirdlane", "worker", "--loglevel", "WARNING",
                        "--pool", "prefork", "--concurrency", str(args.workers), "--without-gossip",
                        "--without-mingle", "--without-heartbeat"], str(logs / "bench-sms-worker.log"))
        processes.append(worker)
        adapter_env = {"PATH": os.environ["PATH"], "PORT": str(adapter_port), "PORTAL_SECRET": provider.secret,
                       "PROVIDER_KEY": provider.key, "CARRIER_URL": carrier.url, "CARRIER_TOKEN": TOKEN,
                       "PORTAL_INBOUND_URL": f"http://127.0.0.1:{web_port}/api/sms/inbound/{provider.public_id}"}
        adapter = start(["python3", str(ROOT / "adapters/sms/python/thirdlane_sms_adapter.py")],
                        str(logs / "bench-sms-adapter.log"), env=adapter_env)
        processes.append(adapter)
        provider_update(actor=actor, instance=provider, url=f"http://127.0.0.1:{adapter_port}/messages")
        wait_until(lambda: answers(f"http://127.0.0.1:{web_port}/api/health/"), 60, "gunicorn")
        wait_until(lambda: answers(f"http://127.0.0.1:{adapter_port}/health"), 30, "adapter")

        # --- outbound -----------------------------------------------------------------------------
        def sent() -> int:
            with tenant_context(tenant):
                return SmsMessage.objects.filter(status="sent").count()

        warm = 20
        with tenant_context(tenant):
            for i in range(warm):
                message_send(actor=actor, tenant=tenant, **{"from": DID, "to": CONTACT, "text": f"warm-up {i}"})
        wait_until(lambda: sent() >= warm, 120, "warm-up sends (the worker is up)")
        # Queue through the API's service (row, audit entry, outbox index per message) with the
        # Celery messages held back, then release them at once: the hand-off is timed from a full queue.
        held: list[tuple[int, int]] = []
        real_enqueue = sms_services.enqueue
        sms_services.enqueue = lambda message_id, tenant_id: held.append((message_id, tenant_id))
        started = time.perf_counter()
        with tenant_context(tenant):
            for i in range(args.messages):
                message_send(actor=actor, tenant=tenant, **{"from": DID, "to": CONTACT, "text": f"Bench message {i}"})
        queued_s = time.perf_counter() - started
        sms_services.enqueue = real_enqueue
        started = time.perf_counter()
        for _ in range(args.workers):  # what commits arriving over time do: a drain per worker process
            drain.delay(tenant.pk)
        wait_until(lambda: sent() >= warm + args.messages, 300, "outbound sends")
        out_s = time.perf_counter() - started
        with tenant_context(tenant):
            failed = SmsMessage.objects.exclude(status="sent").filter(direction="outbound").count()
        assert len(carrier.sent) == warm + args.messages, len(carrier.sent)

        # --- inbound ------------------------------------------------------------------------------
        callback = f"http://127.0.0.1:{adapter_port}/carrier"
        warm_bodies = [json.dumps({"event": "message", "id": f"w{i}", "from": CONTACT, "to": DID,
                                   "body": "warm"}).encode() for i in range(warm)]
        post_all(callback, warm_bodies, args.clients)
        bodies = [json.dumps({"event": "message", "id": f"in-{i}", "from": sender_of(i), "to": DID,
                              "body": f"Inbound {i}"}).encode() for i in range(args.messages)]
        in_s, in_bad = post_all(callback, bodies, args.clients)
        with tenant_context(tenant):
            stored = SmsMessage.objects.filter(direction="inbound").count()

        # --- baseline: bare POSTs to a server that only answers -------------------------------------
        bare = BareServer(("127.0.0.1", 0), Ok)
        threading.Thread(target=bare.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{bare.server_address[1]}/"
        post_all(base_url, warm_bodies, args.clients)
        base_s, _ = post_all(base_url, bodies, args.clients)
        bare.shutdown()
    finally:
        for process in processes:
            stop(process)
        carrier.close()

    n = args.messages
    out_rate, in_rate, base_rate = n / out_s, n / in_s, n / base_s
    print(f"\nqueueing: {n} sends through message_send in {queued_s:.2f} s ({n / queued_s:.0f}/s, one process)")
    print(f"outbound: {n} queued messages handed to the adapter (carrier accepted, portal recorded sent) in "
          f"{out_s:.2f} s: {out_rate:.0f} msg/s (target >= 200); not sent: {failed}")
    print(f"inbound:  {n} through the adapter into the portal in {in_s:.2f} s: {in_rate:.0f} msg/s (target >= 200); "
          f"stored {stored - warm}, errors {in_bad}; {n // args.known_every} from CRM contacts (logged as notes)")
    print(f"baseline: {n} bare POSTs ({args.clients} clients) in {base_s:.2f} s: {base_rate:.0f}/s")
    print(f"ratio to the bare POST loop: outbound {base_rate / out_rate:.1f}x slower, "
          f"inbound {base_rate / in_rate:.1f}x slower")


if __name__ == "__main__":
    main()
