"""Call control end to end: API request -> committed job -> a real Celery worker -> the AMI action at
a peer; and a server that never answers: retried with backoff, then the job fails pbx_unreachable."""
from __future__ import annotations

import socket
import time

import pytest
from django_tenants.utils import tenant_context

from apps.calls.models import CallControlJob
from apps.pbx.models import Server
from apps.telephony import services as tel
from tests.calls import control_peers
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(transactional_db):
    from django.db import connection

    from tests.helpers.celery_worker import Worker

    # Fast backoff so the retries fit in a test: 0.2 s, 0.4 s, then give up.
    worker = Worker(connection.settings_dict["NAME"],
                    extra_env={"CALL_CONTROL_RETRY_BASE": "0.2", "CALL_CONTROL_MAX_RETRIES": "2"}).start()
    yield worker
    worker.stop()


def wait_finished(tenant, job_id: int, timeout: float = 30.0) -> CallControlJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(tenant):
            job = CallControlJob.objects.get(pk=job_id)
        if job.finished:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout}s")


def point_at(server, host: str, port: int) -> None:
    Server.objects.filter(pk=server.pk).update(ami_host=host, ami_port=port)


def test_click_to_call_reaches_the_pbx_through_a_running_worker(committed_world, committed_pbx, worker):
    client = ApiClient(committed_world.keys["acme"])
    with control_peers.peer() as peer:
        point_at(committed_pbx["server"], peer.host, peer.port)
        response = client.post("/api/call-control/acme/originate/", {"extension": "1001", "number": "1002"})
        assert response.status_code == 202, response.content
        job = wait_finished(committed_world.acme, response.json()["id"])
        peer.wait_idle()
    assert job.status == "succeeded", (job.error_code, job.error_message, worker.log())
    assert job.result["reason_text"] == "answered"
    [originate] = control_peers.sent(peer, "Originate")
    assert ("Channel", "PJSIP/1001-acme") in originate and ("Exten", "1002") in originate
    assert client.get(response["Location"]).json()["status"] == "succeeded"


def test_an_unreachable_server_is_retried_then_the_job_fails(committed_world, committed_pbx, worker, system_actor):
    with tenant_context(committed_world.acme):
        tel.queue_create(actor=system_actor, tenant=committed_world.acme, number="2000", name="Sales",
                         members=[{"extension": committed_pbx["e2"].pk, "penalty": 0}])
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    point_at(committed_pbx["server"], "127.0.0.1", port)
    client = ApiClient(committed_world.keys["acme"])
    response = client.post("/api/call-control/acme/queue-pause/", {"extension": "1002", "reason": "lunch"})
    assert response.status_code == 202, response.content
    job = wait_finished(committed_world.acme, response.json()["id"])
    assert (job.status, job.error_code, job.attempts) == ("failed", "pbx_unreachable", 3), worker.log()
    assert "Gave up after 3 attempts" in job.error_message
    assert (job.finished_at - job.created_at).total_seconds() >= 0.6  # backoff 0.2 s + 0.4 s
