"""A real Celery worker process for tests that need one.

    def test_x(celery_worker, committed_world): ...   (see tests/conftest.py)

The worker runs `celery -A thirdlane worker` with the test settings, pointed at the test
database (committed data only: use ``committed_world`` / ``transactional_db``) and the test Redis
database. Its queue is purged before it starts, so a test never receives another run's tasks.
"""
from __future__ import annotations

from tests.helpers.process import ROOT, TestProcess  # noqa: F401 (ROOT kept for importers)


class Worker(TestProcess):
    name = "worker"
    start_timeout = 30.0

    def __init__(self, database_name: str, concurrency: int = 1, extra_env: dict | None = None):
        super().__init__(database_name, extra_env)
        self.concurrency = concurrency

    def start(self) -> "Worker":
        from thirdlane.celery import app

        app.control.purge()
        return super().start()

    def command(self) -> list[str]:
        return ["celery", "-A", "thirdlane", "worker", "--loglevel", "INFO", "--pool", "prefork",
                "--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat"]

    def ready(self) -> bool:
        return "ready." in self.log()
