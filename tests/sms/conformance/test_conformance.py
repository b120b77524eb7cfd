"""One conformance suite for the three reference adapters: each runs as a real process between
the portal (a live server, plus ``apps.sms.delivery.deliver`` — the send task's one try — in this
process) and a fake carrier, and must pass the same cases:

    send, inbound, delivery receipt, bad signature refused, carrier error passed back,
    retry after a carrier outage.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import ApiClient
from tests.sms.conformance.adapters import LANGUAGES, AdapterProcess
from tests.sms.conformance.carrier import ABSENT_NUMBER, INVALID_NUMBER, TOKEN, FakeCarrier
from tests.sms.conftest import ACME_DID, CONTACT_PHONE, build_sms_world

pytestmark = pytest.mark.parametrize("lang", LANGUAGES)


class Setup:
    def __init__(self, world, sms, carrier, adapter):
        self.world, self.sms, self.carrier, self.adapter = world, sms, carrier, adapter
        self.client = ApiClient(world.keys["acme"])

    def send(self, to=CONTACT_PHONE, text="Hello from the portal"):
        response = self.client.post("/api/sms/acme/messages/", {"from": ACME_DID, "to": to, "text": text})
        assert response.status_code == 202, response.content
        return response.json()

    def deliver(self, message_id: int) -> str:
        from apps.sms.delivery import deliver

        return deliver(message_id, self.world.acme).result

    def message(self, message_id: int):
        from apps.sms.models import SmsMessage

        with tenant_context(self.world.acme):
            return SmsMessage.objects.get(pk=message_id)

    def wait_status(self, message_id: int, status: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.message(message_id)
            if message.status == status:
                return message
            time.sleep(0.05)
        raise AssertionError(f"message {message_id} is {self.message(message_id).status}, not {status}")


@pytest.fixture
def setup(lang, committed_world, system_actor, live_server, settings, monkeypatch):
    from apps.sms import services
    from apps.sms.providers.services import provider_update

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    monkeypatch.setattr(services, "enqueue", lambda *a, **k: None)  # this suite drives the tries itself
    carrier = FakeCarrier()
    sms = build_sms_world(committed_world, system_actor)
    adapter = None
    try:
        adapter = AdapterProcess(lang, {
            "PORTAL_SECRET": sms.provider.secret, "PROVIDER_KEY": sms.key,
            "PORTAL_INBOUND_URL": f"{live_server.url}/api/sms/inbound/{sms.provider.public_id}",
            "CARRIER_URL": carrier.url, "CARRIER_TOKEN": TOKEN, "TIMEOUT": "5"})
        carrier.callback_url = adapter.url + "/carrier"
        sms.provider = provider_update(actor=system_actor, instance=sms.provider, url=adapter.url + "/messages",
                                       timeout_seconds=10)
        yield Setup(committed_world, sms, carrier, adapter)
    finally:
        if adapter is not None:
            adapter.stop()
        carrier.close()


def test_send(setup):
    queued = setup.send(text="Grüße, Ada")
    assert setup.deliver(queued["id"]) == "sent"
    message = setup.message(queued["id"])
    [sent] = setup.carrier.sent
    assert (sent["from"], sent["to"], sent["body"], sent["reference"]) == (ACME_DID, CONTACT_PHONE, "Grüße, Ada",
                                                                           queued["message_id"])
    assert message.status in ("sent", "delivered") and message.carrier_message_id == sent["id"]


def test_delivery_receipt(setup):
    from apps.events.models import OutboxEvent

    delivered, absent = setup.send(), setup.send(to=ABSENT_NUMBER)
    assert setup.deliver(delivered["id"]) == "sent" and setup.deliver(absent["id"]) == "sent"
    assert setup.wait_status(delivered["id"], "delivered").delivered_at is not None
    failed = setup.wait_status(absent["id"], "failed")
    assert (failed.error_code, failed.error_message) == ("E30", "Absent subscriber")
    assert OutboxEvent.objects.filter(type="communications.sms.delivered").count() == 1
    assert OutboxEvent.objects.filter(type="communications.sms.failed").count() == 1
    deadline = time.monotonic() + 10  # the adapter's answer to the carrier follows the portal's commit
    while len(setup.carrier.reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(status for status, _ in setup.carrier.reports) == [200, 200]


def test_inbound(setup):
    from apps.crm.models import Activity
    from apps.sms.models import SmsMessage

    status, answer = setup.carrier.inbound(carrier_id="in-1", sender=CONTACT_PHONE, to=ACME_DID, text="Привет!")
    assert (status, answer["status"], answer["tenant"]) == (200, "stored", "acme")
    status, again = setup.carrier.inbound(carrier_id="in-1", sender=CONTACT_PHONE, to=ACME_DID, text="Привет!")
    assert (status, again["status"], again["id"]) == (200, "duplicate", answer["id"])
    with tenant_context(setup.world.acme):
        [message] = SmsMessage.objects.filter(direction="inbound")
        assert (message.text, message.encoding, message.contact_id) == ("Привет!", "ucs2", setup.sms.contact_id)
        assert Activity.objects.filter(contact_id=setup.sms.contact_id).count() == 1
    status, refused = setup.carrier.inbound(carrier_id="in-2", sender=CONTACT_PHONE, to="+14155550111", text="?")
    assert status == 422 and refused["error"]["portal"]["code"] == "sms_number_unknown"


def test_bad_signature_refused(setup, system_actor):
    from apps.sms.providers.services import provider_rotate_secret, provider_update

    # The adapter refuses what the portal did not sign with its secret ...
    body = json.dumps({"type": "sms.outbound", "message_id": "sms_x", "from": ACME_DID, "to": CONTACT_PHONE,
                       "text": "forged"}).encode()
    request = urllib.request.Request(setup.adapter.url + "/messages", body, {
        "Content-Type": "application/json", "webhook-id": "sms_x", "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1,Zm9yZ2VkIHNpZ25hdHVyZSBmb3JnZWQgc2lnbmF0dXJlIQ=="})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401 and setup.carrier.sent == []
    # ... so a secret rotated without overlap fails the message at once (adapter_refused), unsent.
    provider_rotate_secret(actor=system_actor, instance=setup.sms.provider, overlap_hours=0)
    queued = setup.send()
    assert setup.deliver(queued["id"]) == "failed"
    assert setup.message(queued["id"]).error_code == "adapter_refused" and setup.carrier.sent == []
    # And the portal refuses what the adapter signed with a secret it no longer has.
    provider_update(actor=system_actor, instance=setup.sms.provider, require_signature=True)
    status, answer = setup.carrier.inbound(carrier_id="in-9", sender=CONTACT_PHONE, to=ACME_DID, text="hi")
    assert status == 422 and answer["error"]["portal"]["code"] == "invalid_signature"


def test_carrier_error_passed_back(setup):
    queued = setup.send(to=INVALID_NUMBER)
    assert setup.deliver(queued["id"]) == "failed"
    message = setup.message(queued["id"])
    assert (message.status, message.error_code, message.error_message, message.attempts) == (
        "failed", "carrier_rejected", "Invalid 'To' number", 1)
    answer = setup.client.get(f"/api/sms/acme/messages/{queued['id']}/").json()
    assert answer["error_message"] == "Invalid 'To' number"


def test_retry_after_a_carrier_outage(setup):
    setup.carrier.down = True
    queued = setup.send()
    assert setup.deliver(queued["id"]) == "retry"
    message = setup.message(queued["id"])
    assert (message.status, message.attempts) == ("queued", 1) and "maintenance window" in message.error_message
    assert setup.carrier.refused == 1 and setup.carrier.sent == []
    setup.carrier.down = False
    assert setup.deliver(queued["id"]) == "sent"
    assert setup.wait_status(queued["id"], "delivered").attempts == 2
    assert len(setup.carrier.sent) == 1
