"""A portal process (Celery worker, gunicorn, uvicorn) started for a test, in its own process group.

Each runs the test settings against the test database (committed data only: use
``committed_world`` / ``transactional_db``) and the test Redis database, logs to .local/, and is
stopped with SIGTERM (SIGKILL after a grace period), children included.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestProcess:
    name = "process"
    start_timeout = 60.0

    def __init__(self, database_name: str, extra_env: dict | None = None):
        self.database_name = database_name
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / ".local" / f"test-{self.name}-{os.getpid()}-{id(self)}.log"

    # --- what a subclass says ---------------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    # --- the rest ----------------------------------------------------------------------------------
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

    def start(self):
        self.log_path.parent.mkdir(exist_ok=True)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", *self.command()], cwd=ROOT, env=self.env(),
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log()[-4000:]}")
            if self.ready():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the main process and its children)."""
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


class ListeningProcess(TestProcess):
    """A server on a free 127.0.0.1 port."""

    def __init__(self, database_name: str, extra_env: dict | None = None):
        super().__init__(database_name, extra_env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False
