"""Handing queued messages to the adapter (apps.sms.delivery.deliver, one try per call): signed
POST, the adapter's answer recorded, retries while it is down, the carrier's reason on failure."""
from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from tests.sms.conftest import ACME_DID, CONTACT_PHONE
from tests.sms.fake_http import Recorder
from tests.sms.test_messages_api import send


@pytest.fixture
def adapter(sms, system_actor):
    from apps.sms.providers.services import provider_update

    recorder = Recorder([(200, {"carrier_message_id": "car-77"})])
    sms.provider = provider_update(actor=system_actor, instance=sms.provider, url=recorder.url, timeout_seconds=2)
    yield recorder
    recorder.close()


def deliver(sms, message_id, **kw):
    from apps.sms.delivery import deliver as one_try

    return one_try(message_id, sms.world.acme, **kw).result


def reload(sms, message_id):
    from apps.sms.models import SmsMessage

    with tenant_context(sms.world.acme):
        return SmsMessage.objects.get(pk=message_id)


def test_a_queued_message_is_posted_signed_and_marked_sent(api, sms, adapter, no_celery):
    from apps.events.models import OutboxEvent
    from apps.sms.providers.models import SmsOutboundRef

    queued = send(api, text="Hello Ada").json()
    assert deliver(sms, queued["id"]) == "sent"
    [request] = adapter.requests
    body = json.loads(request["body"])
    assert body == {"type": "sms.outbound", "message_id": queued["message_id"], "tenant": "acme", "from": ACME_DID,
                    "to": CONTACT_PHONE, "text": "Hello Ada", "encoding": "gsm7", "segments": 1}
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == queued["message_id"]
    Webhook(sms.provider.secret).verify(request["body"], headers)  # raises if the signature is wrong
    message = reload(sms, queued["id"])
    assert (message.status, message.carrier_message_id, message.attempts) == ("sent", "car-77", 1)
    assert SmsOutboundRef.objects.get().carrier_message_id == "car-77"
    [event] = OutboxEvent.objects.filter(type="communications.sms.sent")
    assert event.data["carrier_message_id"] == "car-77" and event.data["contact"]["id"] == sms.contact_id
    # A second copy of the task finds nothing queued: never posted twice.
    assert deliver(sms, queued["id"]) == "skip" and len(adapter.requests) == 1


def test_a_carrier_refusal_fails_the_message_with_the_carriers_reason_without_retry(api, sms, adapter, no_celery):
    from apps.events.models import OutboxEvent

    adapter.answers = [(422, {"error": {"code": "carrier_rejected", "message": "Invalid destination number"}})]
    message_id = send(api).json()["id"]
    assert deliver(sms, message_id) == "failed"
    message = reload(sms, message_id)
    assert (message.status, message.error_code, message.error_message) == (
        "failed", "carrier_rejected", "Invalid destination number")
    assert OutboxEvent.objects.filter(type="communications.sms.failed").count() == 1
    assert api("acme").get(f"/api/sms/acme/messages/{message_id}/").json()["error_message"] == \
        "Invalid destination number"


def test_an_adapter_that_refuses_our_signature_fails_the_message(api, sms, adapter, no_celery):
    adapter.answers = [(401, {"error": {"code": "invalid_signature", "message": "bad signature"}})]
    message_id = send(api).json()["id"]
    assert deliver(sms, message_id) == "failed"
    assert reload(sms, message_id).error_code == "adapter_refused"


def test_a_carrier_outage_is_retried_then_sent_once_it_is_back(api, sms, adapter, no_celery):
    adapter.answers = [(502, {"error": {"code": "carrier_unavailable", "message": "carrier: HTTP 503"}}),
                       (200, {"carrier_message_id": "car-after"})]
    message_id = send(api).json()["id"]
    assert deliver(sms, message_id) == "retry"
    message = reload(sms, message_id)
    assert (message.status, message.attempts) == ("queued", 1) and "carrier: HTTP 503" in message.error_message
    assert deliver(sms, message_id) == "sent"
    message = reload(sms, message_id)
    assert (message.status, message.attempts, message.carrier_message_id) == ("sent", 2, "car-after")
    assert message.error_message == ""
    ids = {r["headers"]["webhook-id"] for r in adapter.requests}
    assert len(adapter.requests) == 2 and len(ids) == 1  # the same webhook-id on every try


def test_the_last_try_against_a_down_adapter_fails_the_message_with_the_reason(api, sms, system_actor, no_celery):
    from apps.sms.providers.services import provider_update

    provider_update(actor=system_actor, instance=sms.provider, url="http://127.0.0.1:9/messages", timeout_seconds=1)
    message_id = send(api).json()["id"]
    assert deliver(sms, message_id) == "retry"
    assert deliver(sms, message_id, final=True) == "failed"
    message = reload(sms, message_id)
    assert message.error_code == "adapter_unreachable" and "Gave up after 2 attempts" in message.error_message


def test_an_answer_without_a_carrier_id_fails_as_an_adapter_error(api, sms, adapter, no_celery):
    adapter.answers = [(200, {"ok": True})]
    message_id = send(api).json()["id"]
    assert deliver(sms, message_id) == "failed"
    assert reload(sms, message_id).error_code == "adapter_error"


def test_a_drain_batch_sends_every_due_message_and_leaves_a_retry_until_its_time(api, sms, adapter, no_celery):
    from apps.events.models import OutboxEvent
    from apps.sms.delivery import deliver_batch
    from apps.sms.models import SmsMessage

    ids = [send(api, text=f"m{i}").json()["id"] for i in range(3)]
    adapter.answers = [(503, {"error": {"code": "carrier_unavailable", "message": "busy"}}),
                       (200, {"carrier_message_id": "car-a"})]
    outcomes = deliver_batch(sms.world.acme)
    assert sorted(o.result for o in outcomes.values()) == ["retry", "sent", "sent"] and set(outcomes) == set(ids)
    assert OutboxEvent.objects.filter(type="communications.sms.sent").count() == 2
    waiting = next(pk for pk, o in outcomes.items() if o.result == "retry")
    assert deliver_batch(sms.world.acme) == {}  # the retry is not due yet
    with tenant_context(sms.world.acme):
        SmsMessage.objects.filter(pk=waiting).update(next_attempt_at=None)
    assert [o.result for o in deliver_batch(sms.world.acme).values()] == ["sent"]
    assert len(adapter.requests) == 4
