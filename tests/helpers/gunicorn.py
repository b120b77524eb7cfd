"""A real gunicorn web server (several worker processes) for tests that need one.

    server = Gunicorn(database_name, workers=2, extra_env={...}).start()
    requests.get(server.url + "/api/...")
    server.served()  # [(worker pid, status, path), ...] from the access log
    server.stop()

It serves the test settings against the test database (committed data only: use
``committed_world`` / ``transactional_db``) and the test Redis database.
"""
from __future__ import annotations

import re

from tests.helpers.process import ROOT, ListeningProcess, free_port  # noqa: F401 (re-exported)

_ACCESS_RE = re.compile(r"^access <(\d+)> (\d{3}) (\S+)$", re.MULTILINE)  # gunicorn writes %(p)s as <pid>


class Gunicorn(ListeningProcess):
    name = "gunicorn"

    def __init__(self, database_name: str, workers: int = 2, extra_env: dict | None = None):
        super().__init__(database_name, extra_env)
        self.workers = workers

    def command(self) -> list[str]:
        return ["gunicorn", "thirdlane.wsgi", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                "--access-logfile", "-", "--access-logformat", "access %(p)s %(s)s %(U)s"]

    def ready(self) -> bool:
        return self.log().count("Booting worker with pid") >= self.workers and self.accepts()

    def served(self) -> list[tuple[int, int, str]]:
        """(worker pid, status, path) of every request logged so far."""
        return [(int(pid), int(status), path) for pid, status, path in _ACCESS_RE.findall(self.log())]
