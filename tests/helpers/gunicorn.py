"""A real gunicorn web server (several worker processes) for tests that need one.

    server = Gunicorn(database_name, workers=2, extra_env={...}).start()
    requests.get(server.url + "/api/...")
    server.served()  # [(worker pid, status, path), ...] from the access log
    server.stop()

It serves the test settings against the test database (committed data only: use
``committed_world`` / ``transactional_db``) and the test Redis database.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ACCESS_RE = re.compile(r"^access <(\d+)> (\d{3}) (\S+)$", re.MULTILINE)  # gunicorn writes %(p)s as <pid>


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, database_name: str, workers: int = 2, extra_env: dict | None = None):
        self.database_name = database_name
        self.workers = workers
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / ".local" / f"test-gunicorn-{os.getpid()}-{self.port}.log"

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

    def start(self) -> "Gunicorn":
        self.log_path.parent.mkdir(exist_ok=True)
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "thirdlane.wsgi", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "-",
             "--access-logformat", "access %(p)s %(s)s %(U)s"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log()}")
            if self.log().count("Booting worker with pid") >= self.workers and self._accepts():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start: {self.log()}")

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def served(self) -> list[tuple[int, int, str]]:
        """(worker pid, status, path) of every request logged so far."""
        return [(int(pid), int(status), path) for pid, status, path in _ACCESS_RE.findall(self.log())]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
