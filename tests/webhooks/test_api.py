"""The webhook API: catalogue, tenant webhooks, system webhooks, delivery logs."""
import pytest
from standardwebhooks import Webhook

from apps.webhooks.models import Attempt, Delivery, Subscription
from tests.helpers.isolation import check_tenant_isolation

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["code"]


def make_webhook(api, tenant="acme", key="acme", **fields):
    body = {"url": "https://hooks.example.com/pbx", "event_types": ["crm.*"], **fields}
    response = api(key).post(f"/api/webhooks/{tenant}/", body)
    assert response.status_code == 201, response.content
    return response.json()


# --- catalogue ---------------------------------------------------------------------------------

def test_catalogue_lists_every_type_with_group_schema_and_example(api, world):
    response = api("acme").get("/api/webhook-events/?limit=1000")
    assert response.status_code == 200
    types = {e["type"]: e for e in response.json()}
    assert int(response["X-Total-Count"]) == len(types)
    for required in ("tenant.created", "system.webhook.disabled", "communications.call.ended",
                     "communications.sms.received"):
        assert required in types
    groups = {e["group"] for e in types.values()}
    assert {"tenant", "system", "communications"} <= groups
    ended = types["communications.call.ended"]
    assert ended["schema"]["type"] == "object" and ended["example"]["call_id"]
    assert types["tenant.created"]["system"] is True


def test_catalogue_filters_by_group_and_reads_one_type(api, world):
    response = api("acme").get("/api/webhook-events/?group=communications&limit=100")
    assert response.status_code == 200
    assert response.json() and all(e["group"] == "communications" for e in response.json())
    assert all(e["system"] for e in api("acme").get("/api/webhook-events/?system=true&limit=1000").json())
    one = api("acme").get("/api/webhook-events/tenant.suspended/")
    assert one.status_code == 200 and one.json()["group"] == "tenant"
    assert api("acme").get("/api/webhook-events/nope.nothing/").status_code == 404
    assert code(api("acme").get("/api/webhook-events/?colour=red")) == "unknown_filter"


def own_part(document: dict) -> dict:
    import json

    paths = {p: v for p, v in document["paths"].items() if "webhook" in p}
    schemas = document["components"]["schemas"]
    keep: set[str] = set()
    todo = [json.dumps([paths, document["webhooks"]])]
    while todo:
        for name in {ref.split('"')[0] for ref in todo.pop().split("#/components/schemas/")[1:]}:
            if name not in keep:
                keep.add(name)
                todo.append(json.dumps(schemas[name]))
    components = {**document["components"], "schemas": {n: schemas[n] for n in keep}}
    return {**document, "paths": paths, "components": components}


def test_openapi_document_has_a_webhooks_section_and_validates_as_3_1(api, world):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    response = api("system").get("/api/schema/?format=json")
    assert response.status_code == 200
    document = response.json()
    # Our part of the document, on its own: the webhook paths and `webhooks` section with every
    # component they reference. (Validated alone so another app's schema bug cannot hide ours;
    # the whole document is checked below too, and its errors are reported.)
    ours = own_part(document)
    errors = list(OpenAPIV31SpecValidator(ours).iter_errors())
    assert errors == [], [str(e)[:300] for e in errors[:3]]
    assert len(ours["webhooks"]) == len(document["webhooks"]) > 50
    whole = [str(e)[:200] for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not [e for e in whole if "ebhook" in e], whole
    hook = document["webhooks"]["tenant.created"]["post"]
    assert {p["name"] for p in hook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    schema = hook["requestBody"]["content"]["application/json"]["schema"]
    component = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert component["allOf"][1]["properties"]["data"]["properties"]["slug"]
    assert "communications.call.ringing" in document["webhooks"]
    assert "/api/webhooks/{tenant}/{webhook_id}/deliveries/" in document["paths"]


# --- tenant webhooks ---------------------------------------------------------------------------

def test_create_shows_a_standard_webhooks_secret_once(api, world):
    body = make_webhook(api, description="CRM sync", headers={"X-Team": "crm"})
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # the reference library accepts it
    assert body["event_types"] == ["crm.*"] and body["enabled"] is True and body["headers"] == {"X-Team": "crm"}
    again = api("acme").get(f"/api/webhooks/acme/{body['id']}/")
    assert again.status_code == 200 and "secret" not in again.json()
    assert "secret" not in api("acme").get("/api/webhooks/acme/").json()[0]
    sub = Subscription.objects.get(pk=body["id"])
    assert sub.tenant_id == world.acme.pk and sub.kind == "tenant"


def test_secret_is_encrypted_at_rest(api, world):
    body = make_webhook(api)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_subscription WHERE id = %s", [body["id"]])
        stored = cursor.fetchone()[0]
    assert body["secret"] not in stored and stored.startswith("enc1:")


def test_selectors_must_match_known_types(api, world):
    response = api("acme").post("/api/webhooks/acme/", {"url": "https://h.example.com/", "event_types": ["crm.contactz.*"]})
    assert response.status_code == 400 and code(response) == "unknown_event_type"
    assert "event_types" in response.json()["errors"]
    response = api("acme").post("/api/webhooks/acme/", {"url": "https://h.example.com/", "event_types": []})
    assert response.status_code == 400 and "event_types" in response.json()["errors"]
    for ok in (["*"], ["config.extension.*"], ["tenant.updated", "crm.*"]):
        assert api("acme").post("/api/webhooks/acme/", {"url": "https://h.example.com/", "event_types": ok}).status_code == 201


@pytest.mark.parametrize("name", ["webhook-signature", "Content-Type", "Host", "user-agent", "Webhook-Id"])
def test_reserved_headers_are_refused(api, world, name):
    response = api("acme").post("/api/webhooks/acme/", {"url": "https://h.example.com/", "event_types": ["*"],
                                                        "headers": {name: "x"}})
    assert response.status_code == 400 and code(response) == "reserved_header"


def test_header_values_cannot_smuggle_lines(api, world):
    response = api("acme").post("/api/webhooks/acme/", {"url": "https://h.example.com/", "event_types": ["*"],
                                                        "headers": {"X-Ok": "a\r\nX-Evil: 1"}})
    assert response.status_code == 400


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://100.64.0.1/", "ftp://example.com/",
    "http://user:pw@example.com/",
])
def test_private_and_metadata_targets_are_refused(api, world, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api("acme").post("/api/webhooks/acme/", {"url": url, "event_types": ["*"]})
    assert response.status_code == 400, url
    assert "url" in response.json()["errors"]


def test_metadata_address_stays_refused_when_private_targets_are_allowed(api, world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert api("acme").post("/api/webhooks/acme/", {"url": "http://127.0.0.1:9/h", "event_types": ["*"]}).status_code == 201
    response = api("acme").post("/api/webhooks/acme/", {"url": "http://169.254.169.254/", "event_types": ["*"]})
    assert response.status_code == 400 and code(response) == "webhook_target_refused"


def test_update_disable_enable_and_delete(api, world):
    body = make_webhook(api)
    path = f"/api/webhooks/acme/{body['id']}/"
    response = api("acme").patch(path, {"enabled": False, "event_types": ["crm.*", "config.extension.*"]})
    assert response.status_code == 200
    assert response.json()["enabled"] is False and response.json()["disabled_reason"] == "manual"
    response = api("acme").patch(path, {"enabled": True})
    assert response.json()["enabled"] is True and response.json()["disabled_reason"] == ""
    assert api("acme").delete(path).status_code == 204
    assert not Subscription.objects.filter(pk=body["id"]).exists()


def test_rotation_signs_with_both_secrets_during_the_overlap(api, world):
    from apps.webhooks.delivery import request_for

    body = make_webhook(api)
    old = body["secret"]
    response = api("acme").post(f"/api/webhooks/acme/{body['id']}/rotate-secret/", {"overlap_hours": 2})
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new.startswith("whsec_") and new != old and response.json()["previous_secret_expires_at"]
    sub = Subscription.objects.get(pk=body["id"])
    delivery = Delivery(subscription=sub, event_type="crm.contact.created", message_id="msg_x",
                        payload={"type": "crm.contact.created", "data": {}})
    raw, headers = request_for(delivery, sub)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(raw, headers) == Webhook(new).verify(raw, headers)
    # without overlap the old secret stops signing at once
    api("acme").post(f"/api/webhooks/acme/{body['id']}/rotate-secret/", {"overlap_hours": 0})
    sub.refresh_from_db()
    assert len(request_for(delivery, sub)[1]["webhook-signature"].split(" ")) == 1


def test_webhooks_are_isolated_between_tenants(api, world):
    body = make_webhook(api)
    check_tenant_isolation(api, resource="webhooks", tenant=world.acme, obj_id=body["id"],
                           update={"description": "x"}, create={"url": "https://x.example.com/", "event_types": ["*"]})
    check_tenant_isolation(api, resource="webhooks", tenant=world.acme, obj_id=body["id"],
                           detail_suffix="deliveries/", update={}, create={"url": "https://x.example.com/",
                                                                          "event_types": ["*"]})
    # another tenant's webhook id under your own tenant is simply not found
    other = make_webhook(api, tenant="globex", key="globex")
    assert api("acme").get(f"/api/webhooks/acme/{other['id']}/").status_code == 404
    assert api("acme").get(f"/api/webhooks/acme/{other['id']}/deliveries/").status_code == 404
    assert [w["id"] for w in api("reseller").get("/api/webhooks/acme/").json()] == [body["id"]]


def test_webhook_list_query_count_does_not_grow(api, world, django_assert_max_num_queries):
    for i in range(3):
        make_webhook(api, description=f"w{i}")
    with django_assert_max_num_queries(8):
        response = api("acme").get("/api/webhooks/acme/")
    assert len(response.json()) == 3
    for i in range(20):
        make_webhook(api, description=f"more{i}")
    with django_assert_max_num_queries(8):
        assert len(api("acme").get("/api/webhooks/acme/?limit=100").json()) == 23


# --- delivery log ------------------------------------------------------------------------------

def _deliveries(world, sub_id, count):
    from django.db import transaction

    from apps.events.services import emit_event
    from apps.webhooks.relay import relay_pending

    with transaction.atomic():
        for i in range(count):
            emit_event(type="crm.contact.created" if i % 2 else "crm.contact.updated", data={"id": i},
                       tenant=world.acme)
    relay_pending()
    deliveries = list(Delivery.objects.filter(subscription_id=sub_id))
    for d in deliveries:
        Attempt.objects.create(delivery=d, attempted_at=d.created_at, status_code=500, error="HTTP 500")
        Attempt.objects.create(delivery=d, attempted_at=d.created_at, status_code=200, succeeded=True)
    return deliveries


def test_delivery_log_lists_attempts_and_filters(api, world, django_assert_max_num_queries):
    body = make_webhook(api)
    _deliveries(world, body["id"], 6)
    path = f"/api/webhooks/acme/{body['id']}/deliveries/"
    with django_assert_max_num_queries(10):
        response = api("acme").get(path)
    assert response.status_code == 200 and response["X-Total-Count"] == "6"
    first = response.json()[0]
    assert [a["status_code"] for a in first["attempts"]] == [500, 200]
    assert first["event_id"] and first["message_id"].startswith("msg_")
    assert {d["event_type"] for d in api("acme").get(path + "?event_type=crm.contact.created").json()} == {
        "crm.contact.created"}
    assert len(api("acme").get(path + "?event_type=crm.*").json()) == 6
    assert len(api("acme").get(path + "?status=pending").json()) == 6
    assert api("acme").get(path + "?status=succeeded").json() == []
    assert code(api("acme").get(path + "?status=weird")) == "invalid_filter"
    one = api("acme").get(f"{path}{first['id']}/")
    assert one.status_code == 200 and len(one.json()["attempts"]) == 2
    _deliveries(world, body["id"], 30)
    with django_assert_max_num_queries(10):
        assert len(api("acme").get(path + "?limit=100").json()) == 36


def test_resend_requeues_a_failed_delivery(api, world):
    body = make_webhook(api)
    delivery = _deliveries(world, body["id"], 1)[0]
    Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempt_count=8, next_attempt_at=None)
    response = api("acme").post(f"/api/webhooks/acme/{body['id']}/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending" and response.json()["attempt_count"] == 0
    assert len(response.json()["attempts"]) == 2  # history kept
    assert api("acme_ro").post(f"/api/webhooks/acme/{body['id']}/deliveries/{delivery.pk}/resend/").status_code == 403
    assert api("acme").post(f"/api/webhooks/acme/{body['id']}/deliveries/").status_code == 405


def test_recover_replays_events_the_webhook_missed(api, world):
    from django.utils import timezone

    from apps.webhooks.relay import relay_pending

    start = timezone.now()
    body = make_webhook(api, event_types=["crm.contact.*"])
    api("acme").patch(f"/api/webhooks/acme/{body['id']}/", {"enabled": False})
    _deliveries(world, body["id"], 4)  # relayed while disabled: nothing for it
    assert not Delivery.objects.filter(subscription_id=body["id"]).exists()
    api("acme").patch(f"/api/webhooks/acme/{body['id']}/", {"enabled": True})
    response = api("acme").post(f"/api/webhooks/acme/{body['id']}/recover/", {"since": start.isoformat()})
    assert response.status_code == 202 and response.json() == {"created": 4, "requeued": 0}
    again = api("acme").post(f"/api/webhooks/acme/{body['id']}/recover/", {"since": start.isoformat()})
    assert again.json() == {"created": 0, "requeued": 0}
    relay_pending()
    assert Delivery.objects.filter(subscription_id=body["id"]).count() == 4


def test_test_delivery_sends_the_example_now_and_returns_the_attempt(api, world, receiver):
    body = make_webhook(api, url=receiver.url)
    response = api("acme").post(f"/api/webhooks/acme/{body['id']}/test/", {"event_type": "crm.contact.created"})
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["succeeded"] is True and result["status_code"] == 200 and result["duration_ms"] >= 0
    got = receiver.requests[0]
    payload = Webhook(body["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "crm.contact.created" and payload["tenant"] == "acme" and payload["test"] is True
    receiver.answer(503)
    result = api("acme").post(f"/api/webhooks/acme/{body['id']}/test/", {"event_type": "tenant.updated"}).json()
    assert result["succeeded"] is False and result["status_code"] == 503
    log = api("acme").get(f"/api/webhooks/acme/{body['id']}/deliveries/?is_test=true").json()
    assert [d["status"] for d in log] == ["failed", "succeeded"]
    response = api("acme").post(f"/api/webhooks/acme/{body['id']}/test/", {"event_type": "no.such"})
    assert response.status_code == 400 and code(response) == "unknown_event_type"


# --- system webhooks ---------------------------------------------------------------------------

def test_system_webhooks_scope(api, world):
    everything = api("system").post("/api/system-webhooks/", {"url": "https://ops.example.com/"})
    assert everything.status_code == 201, everything.content
    assert everything.json()["reseller"] is None and everything.json()["event_types"] == ["*"]
    assert everything.json()["secret"].startswith("whsec_")
    mine = api("reseller").post("/api/system-webhooks/", {"url": "https://one.example.com/",
                                                           "event_types": ["tenant.*"]})
    assert mine.status_code == 201 and mine.json()["reseller"] == "one"
    response = api("reseller").post("/api/system-webhooks/", {"url": "https://x.example.com/", "reseller": "two"})
    assert response.status_code == 400 and "reseller" in response.json()["errors"]
    response = api("reseller").post("/api/system-webhooks/", {"url": "https://x.example.com/", "reseller": None})
    assert response.status_code == 400
    assert [w["id"] for w in api("reseller").get("/api/system-webhooks/").json()] == [mine.json()["id"]]
    assert api("other_reseller").get("/api/system-webhooks/").json() == []
    assert api("other_reseller").get(f"/api/system-webhooks/{mine.json()['id']}/").status_code == 404
    assert api("other_reseller").get(f"/api/system-webhooks/{mine.json()['id']}/deliveries/").status_code == 404
    assert len(api("system").get("/api/system-webhooks/").json()) == 2
    for label in ("acme", "acme_ro"):
        assert code(api(label).get("/api/system-webhooks/")) == "permission_denied"
    assert code(api("reseller_ro").post("/api/system-webhooks/", {"url": "https://x.example.com/"})) == \
        "read_only_credential"
    # system webhooks take system events only
    response = api("system").post("/api/system-webhooks/", {"url": "https://x.example.com/",
                                                             "event_types": ["crm.contact.created"]})
    assert response.status_code == 400 and code(response) == "unknown_event_type"
