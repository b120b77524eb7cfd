"""The webhook pages of the platform admin: scope, the delivery log with attempts, actions."""
import pytest
from django.db import transaction
from django.test import Client

from apps.accounts.principal import Principal
from apps.events.services import emit_event
from apps.webhooks import services
from apps.webhooks.models import Attempt, Delivery, Subscription
from apps.webhooks.relay import relay_pending

pytestmark = pytest.mark.django_db
ACTOR = Principal.system("tests")


def logged_in(username, password):
    client = Client()
    assert client.login(username=username, password=password)
    return client


@pytest.fixture
def hooks(world, receiver):
    acme = services.subscription_create(actor=ACTOR, tenant=world.acme, url=receiver.url, event_types=["crm.*"])
    initech = services.subscription_create(actor=ACTOR, tenant=world.initech, url="https://i.example.com/",
                                           event_types=["*"])
    system = services.subscription_create(actor=ACTOR, kind="system", url="https://ops.example.com/")
    with transaction.atomic():
        emit_event(type="crm.contact.created", data={"id": 1}, tenant=world.acme)
    [delivery_id] = relay_pending()
    Attempt.objects.create(delivery_id=delivery_id, attempted_at=Delivery.objects.get(pk=delivery_id).created_at,
                           status_code=500, error="HTTP 500")
    Delivery.objects.filter(pk=delivery_id).update(status="failed")
    return {"acme": acme, "initech": initech, "system": system, "delivery": delivery_id}


def test_reseller_sees_only_its_tenants_webhooks(world, hooks):
    client = logged_in("reseller", "pw-reseller-1")
    page = client.get("/admin/webhooks/subscription/")
    assert page.status_code == 200
    text = page.content.decode()
    assert hooks["acme"].url in text and "i.example.com" not in text and "ops.example.com" not in text
    assert client.get(f"/admin/webhooks/subscription/{hooks['initech'].pk}/change/").status_code == 404
    admin = logged_in("admin", "pw-admin-1")
    text = admin.get("/admin/webhooks/subscription/").content.decode()
    assert "i.example.com" in text and "ops.example.com" in text


def test_delivery_page_shows_attempts_and_resend_requeues(world, hooks):
    client = logged_in("reseller", "pw-reseller-1")
    page = client.get(f"/admin/webhooks/delivery/{hooks['delivery']}/change/")
    assert page.status_code == 200 and "HTTP 500" in page.content.decode()
    response = client.post("/admin/webhooks/delivery/", {"action": "resend", "_selected_action": [hooks["delivery"]]})
    assert response.status_code == 302
    assert Delivery.objects.get(pk=hooks["delivery"]).status == "pending"


def test_admin_test_action_sends_now_and_creation_shows_the_secret_once(world, hooks, receiver):
    client = logged_in("admin", "pw-admin-1")
    response = client.post("/admin/webhooks/subscription/", {"action": "send_test",
                                                             "_selected_action": [hooks["acme"].pk]}, follow=True)
    assert response.status_code == 200 and len(receiver.requests) == 1
    assert receiver.requests[0].json["type"].startswith("crm.")
    response = client.post("/admin/webhooks/subscription/add/", {
        "kind": "tenant", "tenant": world.globex.pk, "url": "https://g.example.com/hook", "description": "",
        "enabled": "on", "event_types_text": "crm.*, tenant.updated", "headers_text": "X-Team: sales"}, follow=True)
    assert response.status_code == 200
    created = Subscription.objects.get(url="https://g.example.com/hook")
    assert created.event_types == ["crm.*", "tenant.updated"] and created.headers == {"X-Team": "sales"}
    assert created.secret in response.content.decode()
    bad = client.post("/admin/webhooks/subscription/add/", {
        "kind": "tenant", "tenant": world.globex.pk, "url": "https://g.example.com/2", "enabled": "on",
        "event_types_text": "nope.*", "headers_text": ""})
    assert bad.status_code == 200 and "match no" in bad.content.decode()


def test_a_reseller_adding_a_system_webhook_in_the_admin_gets_its_own_tenants_only(world, hooks):
    client = logged_in("reseller", "pw-reseller-1")
    response = client.post("/admin/webhooks/subscription/add/", {
        "kind": "system", "url": "https://one.example.com/ops", "enabled": "on", "event_types_text": "tenant.*",
        "headers_text": ""}, follow=True)
    assert response.status_code == 200
    created = Subscription.objects.get(url="https://one.example.com/ops")
    assert created.kind == "system" and created.reseller_id == world.reseller.pk
