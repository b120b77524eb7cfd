"""A real Celery worker process for tests that need one.

    def test_x(celery_worker, committed_world): ...   (see tests/conftest.py)

The worker runs `celery -A thirdlane worker` with the test settings, pointed at the test
database (committed data only: use ``committed_world`` / ``transactional_db``) and the test Redis
database. Its queue is purged before it starts, so a test never receives another run's tasks.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, database_name: str, concurrency: int = 1, extra_env: dict | None = None):
        self.database_name = database_name
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / ".local" / f"test-worker-{os.getpid()}.log"

    def env(self) -> dict:
        from django.conf import settings

        db = settings.DATABASES["default"]
        env = dict(os.environ)
        env.update({
            "DJANGO_SETTINGS_MODULE": "thirdlane.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{self.database_name}",
            "TEST_REDIS_URL": settings.REDIS_URL,
            "LOG_FORMAT": "text",
        })
        env.update(self.extra_env)
        return env

    def start(self) -> "Worker":
        from thirdlane.celery import app

        app.control.purge()
        self.log_path.parent.mkdir(exist_ok=True)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "thirdlane", "worker", "--loglevel", "INFO", "--pool", "prefork",
             "--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole process group (the main process and its pool children)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
