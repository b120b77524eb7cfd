"""/api/sms/inbound/<provider>: an adapter posts inbound messages and delivery receipts."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from tests.sms.conftest import ACME_DID, ACME_VOICE_DID, CONTACT_PHONE, GLOBEX_DID
from tests.sms.test_messages_api import assert_problem, send


def inbound(client, sms, body, *, key=None, sign_with=None, provider=None):
    raw = json.dumps(body)
    headers = {"HTTP_X_SMS_PROVIDER_KEY": sms.key if key is None else key}
    if sign_with:
        now = datetime.now(timezone.utc)
        headers.update({"HTTP_WEBHOOK_ID": "msg_test", "HTTP_WEBHOOK_TIMESTAMP": str(int(now.timestamp())),
                        "HTTP_WEBHOOK_SIGNATURE": Webhook(sign_with).sign("msg_test", now, raw)})
    return client.post(f"/api/sms/inbound/{provider or sms.provider.public_id}", raw,
                       content_type="application/json", **headers)


def message(carrier_id="c-1", sender=CONTACT_PHONE, to=ACME_DID, text="Call me back"):
    return {"type": "message", "carrier_message_id": carrier_id, "from": sender, "to": to, "text": text}


def acme_messages(world):
    from apps.sms.models import SmsMessage

    with tenant_context(world.acme):
        return list(SmsMessage.objects.order_by("id"))


def test_an_inbound_sms_is_stored_once_logged_on_the_contact_and_emitted(client, sms):
    from apps.crm.models import Activity
    from apps.events.models import OutboxEvent

    first = inbound(client, sms, message())
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "stored" and first.json()["tenant"] == "acme"
    again = inbound(client, sms, message(text="a retry may even differ"))
    assert again.json() == {**first.json(), "status": "duplicate"}
    [stored] = acme_messages(sms.world)
    assert (stored.direction, stored.status, stored.remote, stored.did, stored.text) == (
        "inbound", "received", CONTACT_PHONE, ACME_DID, "Call me back")
    assert stored.contact_id == sms.contact_id
    with tenant_context(sms.world.acme):
        [activity] = Activity.objects.filter(contact_id=sms.contact_id)
    assert activity.kind == "note" and activity.body == "Call me back" and CONTACT_PHONE in activity.subject
    [event] = OutboxEvent.objects.filter(type="communications.sms.received")
    assert event.tenant_slug == "acme" and event.data["contact"]["name"] == "Ada Lovelace"
    assert (event.data["from"], event.data["to"], event.data["message_id"]) == (CONTACT_PHONE, ACME_DID,
                                                                               stored.message_id)
    assert OutboxEvent.objects.filter(type="crm.activity.created").count() == 1


def test_an_sms_from_an_unknown_number_is_stored_without_a_contact(client, sms):
    from apps.crm.models import Activity

    assert inbound(client, sms, message(sender="+14155550144")).status_code == 200
    assert acme_messages(sms.world)[0].contact_id is None
    with tenant_context(sms.world.acme):
        assert not Activity.objects.exists()


def test_a_platform_provider_routes_each_number_to_its_tenant(client, sms):
    from apps.sms.models import SmsMessage

    assert inbound(client, sms, message(to=GLOBEX_DID)).json()["tenant"] == "globex"
    with tenant_context(sms.world.globex):
        assert SmsMessage.objects.count() == 1
    assert acme_messages(sms.world) == []


@pytest.mark.parametrize("kwargs,status,code", [
    ({"key": "smsk_wrong"}, 401, "invalid_provider_key"),
    ({"key": ""}, 401, "invalid_provider_key"),
    ({"provider": "00000000-0000-4000-8000-000000000000"}, 401, "invalid_provider_key"),
    ({"sign_with": "whsec_" + "QUJD" * 8}, 401, "invalid_signature"),
])
def test_bad_credentials_are_refused_and_store_nothing(client, sms, kwargs, status, code):
    assert_problem(inbound(client, sms, message(), **kwargs), status, code)
    assert acme_messages(sms.world) == []


def test_a_provider_that_requires_signatures_refuses_unsigned_posts_and_accepts_signed_ones(client, sms, system_actor):
    from apps.sms.providers.services import provider_rotate_secret, provider_update

    provider = provider_update(actor=system_actor, instance=sms.provider, require_signature=True)
    assert_problem(inbound(client, sms, message()), 401, "invalid_signature")
    assert inbound(client, sms, message(), sign_with=provider.secret).status_code == 200
    old = provider.secret
    rotated = provider_rotate_secret(actor=system_actor, instance=provider)
    # During the overlap both secrets are accepted.
    assert inbound(client, sms, message("c-2"), sign_with=old).status_code == 200
    assert inbound(client, sms, message("c-3"), sign_with=rotated.secret).status_code == 200


@pytest.mark.parametrize("body,status,code,field", [
    (message(to="+14155550111"), 404, "sms_number_unknown", "to"),
    (message(to=ACME_VOICE_DID), 400, "did_not_sms_capable", "to"),
    (message(sender="0800 FLOWERS"), 400, "validation_error", "from"),
    ({"type": "message", "carrier_message_id": "c-9", "to": ACME_DID}, 400, "validation_error", "from"),
    ({"type": "fax", "carrier_message_id": "c-9"}, 400, "validation_error", "type"),
    ({"type": "receipt", "carrier_message_id": "c-9"}, 400, "validation_error", "status"),
    ({**message(), "extra": 1}, 400, "validation_error", "extra"),
    ({"type": "receipt", "carrier_message_id": "nope", "status": "delivered"}, 404, "sms_message_not_found",
     "carrier_message_id"),
])
def test_bad_inbound_bodies_are_problems_and_store_nothing(client, sms, body, status, code, field):
    assert_problem(inbound(client, sms, body), status, code, field)
    assert acme_messages(sms.world) == []


def test_a_reseller_provider_does_not_serve_another_resellers_numbers(client, sms, system_actor):
    from apps.sms.providers.services import provider_create
    from apps.telephony.services import did_create

    with tenant_context(sms.world.initech):
        did_create(actor=system_actor, tenant=sms.world.initech, number="+14155550166", sms_enabled=True)
    provider = provider_create(actor=system_actor, name="R1", url="http://127.0.0.1:9/x", reseller=sms.world.reseller)
    response = inbound(client, sms, message(to="+14155550166"), key=provider.key, provider=provider.public_id)
    assert_problem(response, 404, "sms_number_unknown")
    assert inbound(client, sms, message(to=ACME_DID), key=provider.key,
                   provider=provider.public_id).json()["tenant"] == "acme"


def _sent(api, sms, carrier_id="car-1"):
    """An outbound message the adapter accepted (as apps.sms.delivery records it)."""
    from apps.sms.models import SmsMessage
    from apps.sms.providers.models import SmsOutboundRef

    message_id = send(api).json()["id"]
    with tenant_context(sms.world.acme):
        SmsMessage.objects.filter(pk=message_id).update(status="sent", carrier_message_id=carrier_id)
        ref = SmsMessage.objects.get(pk=message_id).ref
    SmsOutboundRef.objects.filter(ref=ref).update(carrier_message_id=carrier_id)
    return message_id


def test_receipts_move_the_status_once_and_emit_delivered_or_failed(client, api, sms, no_celery):
    from apps.events.models import OutboxEvent
    from apps.sms.models import SmsMessage

    first, second = _sent(api, sms, "car-1"), _sent(api, sms, "car-2")
    receipt = {"type": "receipt", "carrier_message_id": "car-1", "status": "delivered"}
    assert inbound(client, sms, receipt).json()["status"] == "applied"
    assert inbound(client, sms, receipt).json()["status"] == "unchanged"
    # A late "sent" never undoes "delivered".
    assert inbound(client, sms, {**receipt, "status": "sent"}).json()["status"] == "unchanged"
    failed = {"type": "receipt", "carrier_message_id": "car-2", "status": "failed", "error_code": "UNDELIV",
              "reason": "Absent subscriber"}
    assert inbound(client, sms, failed).json()["status"] == "applied"
    with tenant_context(sms.world.acme):
        one, two = SmsMessage.objects.get(pk=first), SmsMessage.objects.get(pk=second)
    assert one.status == "delivered" and one.delivered_at is not None
    assert (two.status, two.error_code, two.error_message) == ("failed", "UNDELIV", "Absent subscriber")
    assert OutboxEvent.objects.filter(type="communications.sms.delivered").count() == 1
    [event] = OutboxEvent.objects.filter(type="communications.sms.failed")
    assert event.data["error_message"] == "Absent subscriber" and event.data["contact"]["id"] == sms.contact_id


def test_a_receipt_that_arrives_before_the_carrier_id_is_recorded_finds_the_message_by_our_id(client, api, sms,
                                                                                              no_celery):
    from apps.sms.models import SmsMessage

    body = send(api).json()
    receipt = {"type": "receipt", "carrier_message_id": "car-early", "message_id": body["message_id"],
               "status": "delivered"}
    assert inbound(client, sms, receipt).json()["status"] == "applied"
    with tenant_context(sms.world.acme):
        assert SmsMessage.objects.get(pk=body["id"]).status == "delivered"


def test_another_providers_key_cannot_touch_this_providers_messages(client, api, sms, system_actor, no_celery):
    from apps.sms.providers.services import provider_create

    _sent(api, sms, "car-1")
    other = provider_create(actor=system_actor, name="Other", url="http://127.0.0.1:9/o")
    response = inbound(client, sms, {"type": "receipt", "carrier_message_id": "car-1", "status": "failed"},
                       key=other.key, provider=other.public_id)
    assert_problem(response, 404, "sms_message_not_found")


def batch(client, sms, items, **kw):
    raw = json.dumps({"items": items})
    return client.post(f"/api/sms/inbound/{sms.provider.public_id}/batch", raw, content_type="application/json",
                       HTTP_X_SMS_PROVIDER_KEY=kw.get("key", sms.key))


def test_a_batch_stores_each_item_once_and_refuses_bad_items_on_their_own(client, api, sms, no_celery):
    from apps.events.models import OutboxEvent

    _sent(api, sms, "car-1")
    response = batch(client, sms, [
        message("b-1"), message("b-1"), message("b-2", to=GLOBEX_DID), message("b-3", to="+14155550111"),
        {**message("b-4"), "oops": 1}, {"type": "receipt", "carrier_message_id": "car-1", "status": "delivered"},
        message("b-5", sender="+14155550144", text="STOP"),
    ])
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["stored", "duplicate", "stored", "error", "error", "applied", "stored"]
    assert results[0]["id"] == results[1]["id"] and results[2]["tenant"] == "globex"
    assert results[3]["error"]["code"] == "sms_number_unknown" and results[3]["error"]["status"] == 404
    assert results[4]["error"]["code"] == "validation_error" and "oops" in results[4]["error"]["errors"]
    assert [m.carrier_message_id for m in acme_messages(sms.world) if m.direction == "inbound"] == ["b-1", "b-5"]
    assert OutboxEvent.objects.filter(type="communications.sms.received").count() == 3
    again = batch(client, sms, [message("b-1"), message("b-5", sender="+14155550144", text="STOP")])
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]


@pytest.mark.parametrize("body", [{}, {"items": []}, {"items": "x"}, {"items": [1]}, {"items": [message()] * 101},
                                  {"items": [message()], "more": 1}])
def test_a_malformed_batch_is_refused_whole(client, sms, body):
    raw = json.dumps(body)
    response = client.post(f"/api/sms/inbound/{sms.provider.public_id}/batch", raw,
                           content_type="application/json", HTTP_X_SMS_PROVIDER_KEY=sms.key)
    assert_problem(response, 400, "validation_error")
    assert acme_messages(sms.world) == []


def test_a_batch_with_a_wrong_key_is_refused_whole(client, sms):
    assert_problem(batch(client, sms, [message()], key="smsk_nope"), 401, "invalid_provider_key")
    assert acme_messages(sms.world) == []


def test_sms_events_reach_tenant_webhooks_and_system_webhooks_that_name_them(client, sms, system_actor, settings):
    from apps.webhooks.matching import subscription_wants
    from apps.webhooks.models import Subscription
    from apps.webhooks.services import subscription_create
    from apps.events.models import OutboxEvent

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    subs = {
        "tenant": subscription_create(actor=system_actor, tenant=sms.world.acme, url="http://127.0.0.1:9/t",
                                      event_types=["communications.sms.*"]),
        "system_named": subscription_create(actor=system_actor, kind=Subscription.Kind.SYSTEM,
                                            url="http://127.0.0.1:9/s", event_types=["communications.sms.received"]),
        "system_star": subscription_create(actor=system_actor, kind=Subscription.Kind.SYSTEM,
                                           url="http://127.0.0.1:9/all", event_types=["*"]),
    }
    assert inbound(client, sms, message()).status_code == 200
    event = OutboxEvent.objects.get(type="communications.sms.received")
    assert event.system
    assert {name: subscription_wants(sub, event) for name, sub in subs.items()} == {
        "tenant": True, "system_named": True, "system_star": False}


def test_a_batch_that_loses_a_race_to_a_concurrent_writer_stores_the_rest_one_by_one(client, sms, monkeypatch):
    """Between the batch's duplicate check and its insert another request stores b-2: the bulk
    insert fails on the unique constraint, and each message is then stored (or found) alone."""
    from apps.sms import services

    real = services._match_contacts

    def racing(senders):
        services.inbound_receive(provider=sms.provider, carrier_message_id="b-2", sender=CONTACT_PHONE,
                                 to=ACME_DID, text="the other request")
        return real(senders)

    monkeypatch.setattr(services, "_match_contacts", racing)
    results = batch(client, sms, [message("b-1"), message("b-2"), message("b-3")]).json()["results"]
    assert [r["status"] for r in results] == ["stored", "duplicate", "stored"]
    texts = {m.carrier_message_id: m.text for m in acme_messages(sms.world)}
    assert texts == {"b-1": "Call me back", "b-2": "the other request", "b-3": "Call me back"}
