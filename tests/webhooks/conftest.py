"""Webhook test fixtures: a private broker queue, a real HTTP receiver, committed worlds and
real Celery worker processes.

Tests that need committed data (the relay runs after commit, workers are other processes) use
``committed_world`` (``transactional_db``); it drops the tenant schemas it created, so later
tests can create the same tenants again.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ApiClient, build_world
from tests.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("HOOKS_TEST_BROKER", "redis://127.0.0.1:6379/7")
QUEUE = f"hooks-test-{uuid.uuid4().hex[:8]}"


def point_celery(url: str) -> None:
    """Send this process's Celery messages to ``url`` from now on (drops pooled connections)."""
    from thirdlane.celery import app

    if app.conf.broker_url == url:
        return
    # kombu keeps one connection pool per broker URL (pools.connections); dropping our references
    # makes the next publish pick the pool of the new URL. Closing the old one would break it for
    # the next switch back.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def private_broker(settings):
    """Each webhook test sends its tasks to this session's own queue on its own Redis db, and
    puts the broker back afterwards. Per test, not per session: pytest-django runs
    transactional tests last, so a session-wide switch would leak into other apps' worker tests."""
    from thirdlane.celery import app

    old_url = app.conf.broker_url
    settings.WEBHOOK_QUEUE = QUEUE
    point_celery(BROKER)
    yield
    point_celery(old_url)


@pytest.fixture(scope="session", autouse=True)
def purge_private_queue():
    yield
    try:
        import redis

        redis.Redis.from_url(BROKER).delete(QUEUE)
    except Exception:
        pass


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """The receiver is on 127.0.0.1; tests about refused targets turn this off."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def reset_nudges() -> None:
    """No relay flag or broker backoff carried over from another test."""
    import redis

    from apps.webhooks import tasks

    tasks._broker_down_until = 0.0
    redis.Redis.from_url(BROKER).delete(tasks.relay_queued_key())


def wait_for_quiet_database(timeout: float = 10.0) -> None:
    """Wait until no other connection to the test database is in a query or a transaction, so
    the flush at teardown (TRUNCATE) does not deadlock with a worker still finishing a task."""
    from django.db import connection

    deadline = time.time() + timeout
    while time.time() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')")
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


@pytest.fixture
def committed_world(transactional_db, system_actor):
    from apps.tenants import schemas
    from apps.tenants.models import Tenant

    reset_nudges()
    world = build_world(system_actor)
    yield world
    from django.db import connection

    time.sleep(0.2)  # let a worker pick up what the test's last commit nudged, then wait for it
    wait_for_quiet_database()
    connection.set_schema_to_public()
    for name in Tenant.objects.values_list("schema_name", flat=True):
        schemas.drop_schema(name)
    reset_nudges()


@pytest.fixture
def committed_api(committed_world):
    def make(label: str) -> ApiClient:
        return ApiClient(committed_world.keys[label])

    return make


class Worker:
    """One ``celery worker`` process (its own process group, so a SIGKILL takes it all)."""

    def __init__(self, broker: str, concurrency: int = 2, name: str | None = None):
        from django.db import connection

        self.name = name or f"hooks-{uuid.uuid4().hex[:6]}@localhost"
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker, "REDIS_URL": broker, "WEBHOOK_QUEUE": QUEUE,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "LOG_FORMAT": "text", "LOG_LEVEL": "INFO",
            "DB_CONN_MAX_AGE": "0",
        }
        if db.get("PASSWORD"):
            env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
        self.log: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.webhooks.worker_main", "-Q", QUEUE, "-c", str(concurrency), "-P",
             "prefork", "-n", self.name, "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(30):
            self.kill()
            raise RuntimeError("celery worker did not start:\n" + "\n".join(self.log[-40:]))

    def _read(self):
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            if " ready." in line:
                self.ready.set()

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): a crashed node."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Cold shutdown (SIGQUIT): the database rows are the truth, nothing to drain."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker():
    workers: list[Worker] = []

    def start(broker: str = BROKER, **kw) -> Worker:
        w = Worker(broker, **kw)
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()


@pytest.fixture(scope="module")
def shared_worker(django_db_setup, django_db_blocker):
    """One worker for a module's tests that do not kill it."""
    with django_db_blocker.unblock():
        worker = Worker(BROKER)
    yield worker
    worker.stop()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
