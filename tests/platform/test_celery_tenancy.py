"""Celery is tenant-aware: a task sent inside a tenant's schema runs in that schema."""
import time

import pytest
from django_tenants.utils import schema_context

from thirdlane.redis import get_redis

pytestmark = pytest.mark.celery_worker


def wait_for(key: str, timeout: float = 20.0) -> bytes | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = get_redis().get(key)
        if value is not None:
            return value
        time.sleep(0.05)
    return None


def test_task_sent_inside_a_tenant_schema_runs_in_it(committed_world, celery_worker):
    from apps.tenants.tasks import report_schema

    get_redis().delete("test:schema:acme", "test:schema:public")
    with schema_context(committed_world.acme.schema_name):
        report_schema.delay("test:schema:acme")
    report_schema.delay("test:schema:public")
    assert wait_for("test:schema:acme") == committed_world.acme.schema_name.encode(), celery_worker.log()
    assert wait_for("test:schema:public") == b"public", celery_worker.log()


def test_health_sees_the_worker(committed_world, celery_worker, client):
    from thirdlane.health import HEARTBEAT_KEY, heartbeat

    get_redis().delete(HEARTBEAT_KEY)
    heartbeat.delay()
    assert wait_for(HEARTBEAT_KEY) is not None, celery_worker.log()
    assert client.get("/api/health/").json()["worker"]["status"] == "ok"
