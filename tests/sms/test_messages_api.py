"""Sending through /api/sms/<tenant>/messages/: what is checked before a message exists, what is
stored, and the reads (list, filters, conversations)."""
from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.sms.conftest import ACME_DID, ACME_VOICE_DID, CONTACT_PHONE, GLOBEX_DID

URL = "/api/sms/acme/messages/"


def send(api, **body):
    payload = {"from": ACME_DID, "to": CONTACT_PHONE, "text": "Hello"}
    payload.update(body)
    return api("acme").post(URL, payload)


def assert_problem(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    if field:
        assert field in body["errors"], body


def stored(world):
    from apps.sms.models import SmsMessage

    with tenant_context(world.acme):
        return list(SmsMessage.objects.order_by("id"))


def test_a_send_is_queued_with_its_segments_and_answered_202_with_location(api, sms, no_celery,
                                                                           django_capture_on_commit_callbacks):
    from apps.audit.models import AuditEntry
    from apps.sms.providers.models import SmsOutboundRef

    with django_capture_on_commit_callbacks(execute=True):
        response = send(api, text="Grüße from the portal " + "x" * 150)
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"/api/sms/acme/messages/{body['id']}/"
    assert body["status"] == "queued" and body["direction"] == "outbound"
    assert (body["from"], body["to"], body["encoding"], body["segments"]) == (ACME_DID, CONTACT_PHONE, "gsm7", 2)
    assert body["contact_id"] == sms.contact_id
    assert no_celery == [body["id"]]
    ref = SmsOutboundRef.objects.get()
    assert (ref.tenant_id, ref.message_id, f"sms_{ref.ref.hex}") == (sms.world.acme.pk, body["id"], body["message_id"])
    assert AuditEntry.objects.filter(verb="sms.send", tenant_id=sms.world.acme.pk).count() == 1
    assert api("acme").get(response["Location"]).json()["message_id"] == body["message_id"]


def test_ucs2_text_counts_70_and_67_unit_segments(api, sms, no_celery):
    body = send(api, text="Привет " * 11).json()
    assert (body["encoding"], body["segments"]) == ("ucs2", 2)


@pytest.mark.parametrize("body,status,code,field", [
    ({"from": ACME_VOICE_DID}, 400, "did_not_sms_capable", "from"),
    ({"from": GLOBEX_DID}, 400, "reference_not_found", "from"),  # another tenant's DID is not found here
    ({"from": "+14155550111"}, 400, "reference_not_found", "from"),
    ({"to": "4155550100"}, 400, "validation_error", "to"),
    ({"to": "+1 415 555"}, 400, "validation_error", "to"),
    ({"from": "not-a-number"}, 400, "validation_error", "from"),
    ({"text": "   "}, 400, "validation_error", "text"),
    ({"text": "x" * 3201}, 400, "validation_error", "text"),
    ({"oops": 1}, 400, "validation_error", "oops"),
])
def test_bad_sends_are_refused_with_a_problem_and_store_nothing(api, sms, no_celery, body, status, code, field):
    response = send(api, **body)
    assert_problem(response, status, code, field)
    if field in ("from", "to") and code == "validation_error":
        assert response.json()["errors"][field][0]["code"] == "invalid_e164"
    assert stored(sms.world) == [] and no_celery == []


def test_a_text_over_the_tenants_segment_limit_is_refused(api, sms, system_actor, no_celery):
    from apps.sms.services import sms_settings_update

    with tenant_context(sms.world.acme):
        sms_settings_update(actor=system_actor, tenant=sms.world.acme, max_segments=2)
    assert send(api, text="a" * 306).status_code == 202
    response = send(api, text="a" * 307)
    assert_problem(response, 400, "text_too_long", "text")
    assert (response.json()["segments"], response.json()["max_segments"]) == (3, 2)
    assert len(stored(sms.world)) == 1


def test_a_recipient_who_sent_stop_is_refused_until_start(api, sms, no_celery):
    from apps.sms.services import inbound_receive

    inbound_receive(provider=sms.provider, carrier_message_id="in-1", sender=CONTACT_PHONE, to=ACME_DID, text="Stop")
    assert_problem(send(api), 409, "recipient_opted_out", "to")
    inbound_receive(provider=sms.provider, carrier_message_id="in-2", sender=CONTACT_PHONE, to=ACME_DID, text="START")
    assert send(api).status_code == 202


def test_without_an_enabled_provider_a_send_is_409(api, sms, system_actor, no_celery):
    from apps.sms.providers.services import provider_update

    provider_update(actor=system_actor, instance=sms.provider, enabled=False)
    assert_problem(send(api), 409, "no_sms_provider")
    assert stored(sms.world) == []


def test_the_tenants_own_provider_wins_over_the_resellers_and_the_systems(sms, system_actor):
    from apps.sms.providers.services import provider_create
    from apps.sms.selectors import provider_for

    assert provider_for(sms.world.acme) == sms.provider
    reseller = provider_create(actor=system_actor, name="Reseller's", url="http://127.0.0.1:9/r",
                               reseller=sms.world.reseller)
    assert provider_for(sms.world.acme) == reseller and provider_for(sms.world.initech) == sms.provider
    own = provider_create(actor=system_actor, name="Acme's", url="http://127.0.0.1:9/a", tenant=sms.world.acme)
    assert provider_for(sms.world.acme) == own and provider_for(sms.world.globex) == reseller


def test_the_tenants_send_rate_is_limited_and_a_refused_send_stores_nothing(api, sms, system_actor, no_celery):
    from apps.sms.services import sms_settings_update
    from thirdlane.ratelimit import store

    store.run(lambda c: c.delete(f"rl:sms:{sms.world.acme.pk}"), None)
    with tenant_context(sms.world.acme):
        sms_settings_update(actor=system_actor, tenant=sms.world.acme, rate_per_minute=2)
    assert [send(api).status_code for _ in range(2)] == [202, 202]
    response = send(api)
    assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert len(stored(sms.world)) == 2


def test_list_filters_and_conversations(api, sms, no_celery):
    from apps.sms.services import inbound_receive

    send(api, text="one")
    send(api, to="+14155550123", text="two")
    inbound_receive(provider=sms.provider, carrier_message_id="c-1", sender=CONTACT_PHONE, to=ACME_DID, text="reply")
    client = api("acme")
    listed = client.get(URL)
    assert listed.status_code == 200 and listed["X-Total-Count"] == "3"
    assert [m["text"] for m in client.get(URL + "?direction=inbound").json()] == ["reply"]
    assert [m["text"] for m in client.get(URL + f"?remote=%2B14155550100&ordering=id").json()] == ["one", "reply"]
    assert_problem(client.get(URL + "?status=bogus"), 400, "invalid_filter")
    assert_problem(client.get(URL + "?nope=1"), 400, "unknown_filter")
    conversations = client.get(URL + "conversations/").json()
    assert [(c["remote"], c["messages"], c["inbound"], c["last_text"]) for c in conversations] == [
        (CONTACT_PHONE, 2, 1, "reply"), ("+14155550123", 1, 0, "two")]
    assert conversations[0]["contact_id"] == sms.contact_id
    assert len(client.get(URL + "conversations/?remote=%2B14155550123").json()) == 1
    assert_problem(client.get(URL + "conversations/?oops=1"), 400, "unknown_filter")


def test_list_query_count_does_not_grow_with_rows(api, sms, no_celery, django_assert_max_num_queries):
    for i in range(3):
        send(api, text=f"m{i}")
    with django_assert_max_num_queries(12):
        small = api("acme").get(URL)
    for i in range(30):
        send(api, text=f"n{i}")
    with django_assert_max_num_queries(12):
        assert len(api("acme").get(URL).json()) == 33


def test_other_tenants_and_read_only_keys_cannot_reach_the_messages(api, sms, no_celery):
    message_id = send(api).json()["id"]
    base = "/api/sms/acme/messages/"
    for label in ("globex", "initech", "other_reseller"):
        for method, path, body in (("get", base, None), ("get", f"{base}{message_id}/", None),
                                   ("post", base, {"from": ACME_DID, "to": CONTACT_PHONE, "text": "x"}),
                                   ("get", f"{base}conversations/", None)):
            client = api(label)
            response = getattr(client, method)(path, body) if body else getattr(client, method)(path)
            assert_problem(response, 404, "tenant_not_found")
    assert_problem(api("acme_ro").post(base, {"from": ACME_DID, "to": CONTACT_PHONE, "text": "x"}), 403,
                   "read_only_credential")
    assert api("acme_ro").get(f"{base}{message_id}/").status_code == 200
    assert api("globex").get("/api/sms/globex/messages/").json() == []
    assert len(stored(sms.world)) == 1


def test_messages_cannot_be_changed_or_deleted(api, sms, no_celery):
    message_id = send(api).json()["id"]
    for method in ("patch", "put", "delete"):
        response = getattr(api("acme"), method)(f"{URL}{message_id}/")
        assert_problem(response, 405, "method_not_allowed")


def test_the_tenant_sets_its_segment_limit_and_rate_through_the_api(api, sms, no_celery):
    from apps.audit.models import AuditEntry

    url = "/api/sms/acme/settings/"
    defaults = api("acme").get(url).json()
    assert (defaults["max_segments"], defaults["rate_per_minute"]) == (10, None)
    changed = api("acme").patch(url, {"max_segments": 1})
    assert changed.status_code == 200 and changed.json()["max_segments"] == 1
    assert_problem(send(api, text="a" * 161), 400, "text_too_long", "text")
    assert api("acme").put(url, {"max_segments": 2, "rate_per_minute": 30}).json()["rate_per_minute"] == 30
    assert send(api, text="a" * 161).status_code == 202
    for body in ({"max_segments": 0}, {"max_segments": 21}, {"rate_per_minute": 0}, {"oops": 1}):
        assert_problem(api("acme").patch(url, body), 400, "validation_error", next(iter(body)))
    assert AuditEntry.objects.filter(object_type="sms.smssettings", tenant_id=sms.world.acme.pk).count() == 2
    assert api("globex").get("/api/sms/globex/settings/").json()["max_segments"] == 10


def test_other_tenants_and_read_only_keys_cannot_reach_the_settings(api, sms):
    url = "/api/sms/acme/settings/"
    for label in ("globex", "initech", "other_reseller"):
        for method in ("get", "patch", "put"):
            client = api(label)
            response = getattr(client, method)(url, {"max_segments": 1}) if method != "get" else client.get(url)
            assert_problem(response, 404, "tenant_not_found")
    assert_problem(api("acme_ro").patch(url, {"max_segments": 1}), 403, "read_only_credential")
    assert api("acme_ro").get(url).json()["max_segments"] == 10
    assert_problem(api("acme").post(url, {}), 405, "method_not_allowed")
    assert_problem(api("acme").delete(url), 405, "method_not_allowed")
