"""The send task in a real Celery worker: queued by the API, retried with backoff while the
adapter answers 5xx, sent once it recovers; failed with the reason after SMS_MAX_RETRIES."""
from __future__ import annotations

import time

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tests.conftest import ApiClient
from tests.helpers.celery_worker import Worker
from tests.sms.conftest import ACME_DID, CONTACT_PHONE, build_sms_world
from tests.sms.fake_http import Recorder


@pytest.fixture
def worker(transactional_db):
    worker = Worker(connection.settings_dict["NAME"], extra_env={
        "SMS_RETRY_BASE": "0.2", "SMS_MAX_RETRIES": "2", "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1"}).start()
    yield worker
    worker.stop()


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def status_of(world, message_id):
    from apps.sms.models import SmsMessage

    with tenant_context(world.acme):
        return SmsMessage.objects.get(pk=message_id)


def test_the_worker_retries_an_adapter_outage_then_sends(committed_world, system_actor, worker, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    adapter = Recorder([(503, {"error": {"code": "carrier_unavailable", "message": "down"}}),
                        (503, {"error": {"code": "carrier_unavailable", "message": "down"}}),
                        (200, {"carrier_message_id": "car-1"})])
    try:
        build_sms_world(committed_world, system_actor, url=adapter.url)
        client = ApiClient(committed_world.keys["acme"])
        response = client.post("/api/sms/acme/messages/", {"from": ACME_DID, "to": CONTACT_PHONE, "text": "hi"})
        assert response.status_code == 202, response.content
        message = wait_for(lambda: (m := status_of(committed_world, response.json()["id"])).status != "queued" and m)
        assert (message.status, message.attempts, message.carrier_message_id) == ("sent", 3, "car-1")
        assert len(adapter.requests) == 3
    finally:
        adapter.close()


def test_the_worker_gives_up_after_the_last_retry_with_the_reason(committed_world, system_actor, worker, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    adapter = Recorder([(502, {"error": {"code": "carrier_unavailable", "message": "carrier: connection refused"}})])
    try:
        build_sms_world(committed_world, system_actor, url=adapter.url)
        client = ApiClient(committed_world.keys["acme"])
        message_id = client.post("/api/sms/acme/messages/", {"from": ACME_DID, "to": CONTACT_PHONE,
                                                              "text": "hi"}).json()["id"]
        message = wait_for(lambda: (m := status_of(committed_world, message_id)).status != "queued" and m)
        assert (message.status, message.attempts, message.error_code) == ("failed", 3, "carrier_unavailable")
        assert "carrier: connection refused" in message.error_message
        assert len(adapter.requests) == 3
    finally:
        adapter.close()
