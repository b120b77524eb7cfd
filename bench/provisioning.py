#!/usr/bin/env python
"""A phone fetching its configuration file over HTTP, through the real stack (issue 12: p99 <= 20 ms).

    .venv/bin/python bench/provisioning.py [--tenants 100] [--requests 2000] [--lines 4] [--storm 400]
                                           [--concurrency 16]

In a dedicated database (thirdlane_bench_prov, recreated each run) with --tenants tenants on one
PBX server, each with 50 extensions and a Yealink T54W, a Polycom VVX450 and a Grandstream GRP2614
of --lines lines (3 phones per tenant in the platform index), gunicorn serves the portal as bin/run starts it
(2 workers x 4 threads). A client asks, one request at a time on a new connection each (as phones
do), for:

  ours      GET /provisioning/<mac>.cfg with HTTP digest (a nonce from an earlier challenge, as
            a phone re-provisioning with its cached nonce): the MAC look-up in the platform
            index, digest verification, the failure counter check in Redis, the tenant's phone
            and lines, the template render
  baseline  GET /static/bench.cfg, a file of the same size served by the same process (Django's
            static view behind the same middleware), interleaved in blocks with ours

and prints p50/p95/p99 of each, the ratio, each vendor's file, the full exchange a booting phone
makes (401 challenge + answered request), and a boot storm: --storm phones of many tenants
fetched by --concurrency clients at once (requests/s, p99).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "thirdlane_bench_prov"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thirdlane.settings")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["ALLOWED_HOSTS"] = "*"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = REDIS
STATIC = Path(tempfile.mkdtemp(prefix="bench-prov-static-"))
os.environ["STATIC_ROOT"] = str(STATIC)
EXTENSIONS = 50


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Phone:
    """A phone's side of HTTP digest: one challenge, then answers with the cached nonce."""

    def __init__(self, port: int, mac: str, password: str, path: str):
        self.port, self.mac, self.password, self.path = port, mac, password, path
        self.nonce = self.realm = None
        self.nc = 0

    def get(self, headers: dict | None = None) -> tuple[int, bytes, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", self.path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def challenge(self) -> None:
        status, _, headers = self.get()
        assert status == 401, status
        found = dict(re.findall(r'(\w+)="?([^",]*)"?', headers["WWW-Authenticate"]))
        self.nonce, self.realm, self.nc = found["nonce"], found["realm"], 0

    def authorization(self) -> str:
        self.nc += 1
        nc, cnonce = f"{self.nc:08x}", os.urandom(4).hex()
        ha1 = hashlib.md5(f"{self.mac}:{self.realm}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"GET:{self.path}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return (f'Digest username="{self.mac}", realm="{self.realm}", nonce="{self.nonce}", uri="{self.path}", '
                f'qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}", algorithm=MD5')

    def fetch(self) -> bytes:
        status, body, _ = self.get({"Authorization": self.authorization(), "User-Agent": "bench-phone"})
        assert status == 200, (status, body[:200])
        return body


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):6.2f} ms  p95 {pct(values, 95):6.2f} ms  p99 {pct(values, 99):6.2f} ms  "
            f"max {max(values):6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests of each kind (ours, baseline)")
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--lines", type=int, default=4)
    parser.add_argument("--storm", type=int, default=400, help="phones in the boot storm")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    TENANTS = args.tenants
    recreate_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from apps.accounts.principal import Principal
    from apps.pbx.services import server_create
    from apps.provisioning.services import phone_create
    from apps.telephony.models import Extension
    from apps.telephony.validators import generate_secret
    from apps.tenants.services import reseller_create, tenant_create, tenant_update

    started = time.perf_counter()
    call_command("bootstrap", verbosity=0, stdout=open(os.devnull, "w"))
    actor = Principal.system("bench")
    reseller = reseller_create(actor=actor, name="Bench", slug="bench", max_tenants=TENANTS + 10)
    server = server_create(actor=actor, name="pbx1", host="pbx1.bench.example", sip_address="sip1.bench.example",
                           ami_host="127.0.0.1", ami_username="portal", ami_secret="x" * 16)
    phones: list[tuple[str, str, str, str]] = []  # (vendor, mac, password, path)
    for t in range(TENANTS):
        tenant = tenant_create(actor=actor, slug=f"t{t:03d}", name=f"Tenant {t}", reseller=reseller)
        tenant = tenant_update(actor=actor, tenant=tenant, primary_server=server, timezone="America/New_York")
        with tenant_context(tenant):
            exts = Extension.objects.bulk_create([Extension(number=f"{1000 + i}", name=f"User {i}",
                                                            sip_secret=generate_secret())
                                                  for i in range(EXTENSIONS)])
            for v, (model, file) in enumerate((("T54W", "{mac}.cfg"), ("VVX450", "{mac}-phone.cfg"),
                                               ("GRP2614", "cfg{mac}.xml"))):
                mac = f"00aa{t:04x}{v:04x}"
                phone = phone_create(actor=actor, tenant=tenant, mac=mac, model=model,
                                     lines=[{"extension": e.pk} for e in exts[v * args.lines:(v + 1) * args.lines]])
                phones.append((phone.vendor, mac, phone.generated_password, "/provisioning/" + file.format(mac=mac)))
    connection.close()
    print(f"{TENANTS} tenants x {EXTENSIONS} extensions, {len(phones)} phones set up in "
          f"{time.perf_counter() - started:.0f} s")

    port = free_port()
    env = {**os.environ}
    command = [sys.executable, "-m", "gunicorn", "thirdlane.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2",
               "--threads", "4"]
    from gunicorn.config import KNOWN_SETTINGS

    if any(s.name == "control_socket" for s in KNOWN_SETTINGS):
        command.append("--no-control-socket")
    server_process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/api/health/")
                break
            except OSError:
                time.sleep(0.2)
        # A phone in the middle of the platform (the middle tenant's Yealink) and a static file of its size.
        vendor, mac, password, path = next(p for p in phones if p[1] == f"00aa{TENANTS // 2:04x}0000")
        phone = Phone(port, mac, password, path)
        phone.challenge()
        body = phone.fetch()
        (STATIC / "bench.cfg").write_bytes(body)
        static = Phone(port, "", "", "/static/bench.cfg")
        assert static.get()[0] == 200
        for _ in range(50):  # warm both workers and their threads
            phone.fetch()
            static.get()

        ours: list[float] = []
        baseline: list[float] = []
        block = max(args.requests // 10, 10)
        for _ in range(10):
            phone.challenge()  # a fresh nonce per block: phones re-challenge every few minutes
            ours += [timed(phone.fetch) for _ in range(block)]
            baseline += [timed(static.get) for _ in range(block)]
        print(f"\nOne phone's file over HTTP (gunicorn 2 workers x 4 threads), {len(ours)} requests each, "
              f"one at a time, a new connection each, interleaved in blocks")
        print(f"  ours     GET {path} ({len(body):,} bytes, T54W, {args.lines} lines, digest):")
        print(f"           {summary(ours)}   (target p99 <= 20 ms)")
        print(f"  baseline GET /static/bench.cfg (the same bytes, same process):")
        print(f"           {summary(baseline)}")
        print(f"  ratio ours/baseline: p50 {statistics.median(ours) / statistics.median(baseline):.2f}x, "
              f"p99 {pct(ours, 99) / pct(baseline, 99):.2f}x")

        print("\nEach vendor's main file (500 requests each):")
        for vendor_name in ("yealink", "polycom", "grandstream"):
            _, m, pw, p = next(x for x in phones if x[0] == vendor_name and x[1].startswith(f"00aa{TENANTS // 3:04x}"))
            other = Phone(port, m, pw, p)
            other.challenge()
            times = [timed(other.fetch) for _ in range(500)]
            print(f"  {vendor_name:<12} {p:<34} {summary(times)}")

        def boot(index: int) -> float:
            _, m, pw, p = phones[index % len(phones)]
            booting = Phone(port, m, pw, p)
            return timed(lambda: (booting.challenge(), booting.fetch()))

        exchange = [boot(i) for i in range(300)]
        print(f"\nA booting phone's whole exchange (401 challenge, then the answered request), 300 phones:")
        print(f"  {summary(exchange)}")

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            storm = list(pool.map(boot, range(args.storm)))
        took = time.perf_counter() - started
        tenants_hit = min(args.storm, len(phones)) // 3
        print(f"\nBoot storm: {args.storm} phones of {tenants_hit} tenants, {args.concurrency} at once:"
              f" {took:.1f} s, {args.storm / took:.0f} phones/s ({2 * args.storm / took:.0f} requests/s)")
        print(f"  per phone (challenge + file): {summary(storm)}")
    finally:
        server_process.terminate()
        server_process.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
