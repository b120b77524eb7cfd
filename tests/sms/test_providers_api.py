"""/api/sms-providers/: SMS providers through the API, each credential within its scope, the key
and secret shown once, rotations, and the adapter URL checked like a webhook target."""
from __future__ import annotations

import pytest

URL = "/api/sms-providers/"
BODY = {"name": "Carrier Y", "url": "https://sms.example.com/messages"}


@pytest.fixture
def providers(world, system_actor, settings):
    """One provider at each level: the system's, reseller one's, acme's, initech's (reseller two)."""
    from apps.sms.providers.services import provider_create

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True

    def make(name, **owner):
        return provider_create(actor=system_actor, name=name, url="http://127.0.0.1:9/" + name, **owner)

    return {"system": make("system"), "one": make("one", reseller=world.reseller),
            "acme": make("acme", tenant=world.acme), "initech": make("initech", tenant=world.initech)}


def names(response):
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json())


def assert_problem(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    if field:
        assert field in body["errors"], body
    return body


def test_each_credential_lists_the_providers_in_its_scope(api, providers):
    assert names(api("system").get(URL)) == ["acme", "initech", "one", "system"]
    assert names(api("reseller").get(URL)) == ["acme", "one"]
    assert names(api("acme").get(URL)) == ["acme"]
    assert names(api("globex").get(URL)) == []


def test_another_resellers_provider_is_404_to_read_change_rotate_and_delete(api, providers):
    initech = f"{URL}{providers['initech'].pk}/"
    client = api("reseller")
    assert_problem(client.get(initech), 404, "not_found")
    assert_problem(client.patch(initech, {"enabled": False}), 404, "not_found")
    assert_problem(client.post(initech + "rotate-key/"), 404, "not_found")
    assert_problem(client.post(initech + "rotate-secret/", {}), 404, "not_found")
    assert_problem(client.delete(initech), 404, "not_found")
    # ... and the system's provider to a reseller, the reseller's to a tenant
    assert_problem(client.get(f"{URL}{providers['system'].pk}/"), 404, "not_found")
    assert_problem(api("acme").get(f"{URL}{providers['one'].pk}/"), 404, "not_found")
    assert_problem(api("globex").delete(f"{URL}{providers['acme'].pk}/"), 404, "not_found")
    providers["initech"].refresh_from_db()
    assert providers["initech"].enabled


def test_create_shows_the_key_and_secret_once_and_they_work(api, world, settings):
    from apps.sms.providers.models import SmsProvider
    from apps.sms.providers.services import key_matches
    from apps.audit.models import AuditEntry

    response = api("system").post(URL, BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"].startswith("smsk_") and body["secret"].startswith("whsec_")
    assert body["scope"] == "system" and body["tenant"] is None and body["reseller"] is None
    assert body["inbound_url"] == f"/api/sms/inbound/{body['public_id']}"
    assert body["key_prefix"] == body["key"][:12]
    provider = SmsProvider.objects.get(pk=body["id"])
    assert key_matches(provider, body["key"]) and provider.secret == body["secret"]
    assert AuditEntry.objects.filter(action="create", object_id=str(provider.pk)).exists()
    again = api("system").get(f"{URL}{body['id']}/").json()
    assert "key" not in again and "secret" not in again
    assert "secret" not in api("system").get(URL).json()[0]


def test_a_credential_owns_what_it_creates_unless_it_names_an_owner_it_can_see(api, world):
    assert api("reseller").post(URL, BODY).json()["reseller"] == "one"
    body = api("acme").post(URL, BODY).json()
    assert (body["tenant"], body["scope"]) == ("acme", "tenant")
    assert api("reseller").post(URL, {**BODY, "tenant": "globex"}).json()["tenant"] == "globex"
    assert api("system").post(URL, {**BODY, "reseller": "two"}).json()["scope"] == "reseller"


@pytest.mark.parametrize("label,owner,field", [
    ("reseller", {"tenant": "initech"}, "tenant"),      # another reseller's tenant
    ("reseller", {"reseller": "two"}, "reseller"),      # another reseller
    ("acme", {"tenant": "globex"}, "tenant"),           # another tenant
    ("acme", {"reseller": "one"}, "reseller"),          # a tenant cannot serve its reseller's tenants
    ("reseller", {"tenant": "nope"}, "tenant"),
])
def test_owners_outside_the_scope_are_unknown(api, world, label, owner, field):
    from apps.sms.providers.models import SmsProvider

    assert_problem(api(label).post(URL, {**BODY, **owner}), 400, "validation_error", field)
    assert not SmsProvider.objects.exists()


def test_only_the_system_serves_every_tenant_and_one_owner_at_most(api, world):
    assert_problem(api("system").post(URL, {**BODY, "tenant": "acme", "reseller": "one"}), 400,
                   "validation_error", "reseller")
    # a reseller naming "nobody" still gets its own reseller, never the whole system
    assert api("reseller").post(URL, {**BODY, "reseller": None}).json()["reseller"] == "one"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://10.0.0.5/x", "http://169.254.169.254/latest",
                                 "http://localhost/x", "https://[::1]/x"])
def test_adapter_urls_on_private_addresses_are_refused_like_webhook_targets(api, world, url):
    assert_problem(api("system").post(URL, {**BODY, "url": url}), 400, "webhook_target_refused", "url")


@pytest.mark.parametrize("body,code,field", [
    ({"url": "ftp://sms.example.com/"}, "webhook_target_refused", "url"),
    ({"url": "not a url"}, "validation_error", "url"),
    ({"name": ""}, "validation_error", "name"),
    ({"timeout_seconds": 0}, "validation_error", "timeout_seconds"),
    ({"timeout_seconds": 61}, "validation_error", "timeout_seconds"),
    ({"secret": "whsec_short"}, "weak_secret", "secret"),
    ({"public_id": "x", "hmm": 1}, "validation_error", "hmm"),
])
def test_bad_provider_bodies_are_refused_per_field(api, world, body, code, field):
    assert_problem(api("system").post(URL, {**BODY, **body}), 400, code, field)


def test_update_keeps_the_owner_and_checks_the_url(api, providers):
    acme = f"{URL}{providers['acme'].pk}/"
    client = api("reseller")
    assert client.patch(acme, {"name": "Renamed", "require_signature": True}).json()["name"] == "Renamed"
    assert client.patch(acme, {"tenant": "acme"}).status_code == 200  # the same owner again is fine
    assert_problem(client.patch(acme, {"tenant": "globex"}), 400, "validation_error", "tenant")
    assert_problem(client.patch(acme, {"reseller": "one"}), 400, "validation_error", "reseller")
    # a private target (allowed by the providers fixture) is refused once the operator forbids it
    from django.conf import settings
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert_problem(client.patch(acme, {"url": "http://192.168.1.2/m"}), 400, "webhook_target_refused", "url")
    providers["acme"].refresh_from_db()
    assert (providers["acme"].tenant_id, providers["acme"].name) == (providers["acme"].tenant.pk, "Renamed")
    assert providers["acme"].require_signature


def test_read_only_credentials_cannot_write(api, providers):
    assert names(api("reseller_ro").get(URL)) == ["acme", "one"]
    assert_problem(api("reseller_ro").post(URL, BODY), 403, "read_only_credential")
    assert_problem(api("acme_ro").post(f"{URL}{providers['acme'].pk}/rotate-key/"), 403, "read_only_credential")


def test_rotate_secret_keeps_the_old_one_signing_for_the_overlap(api, providers):
    from apps.sms.providers.services import signing_secrets

    old = providers["acme"].secret
    response = api("acme").post(f"{URL}{providers['acme'].pk}/rotate-secret/", {"overlap_hours": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    providers["acme"].refresh_from_db()
    assert body["secret"] == providers["acme"].secret != old
    assert signing_secrets(providers["acme"]) == [body["secret"], old]
    assert body["previous_secret_expires_at"]
    assert_problem(api("acme").post(f"{URL}{providers['acme'].pk}/rotate-secret/", {"overlap_hours": 169}), 400,
                   "validation_error", "overlap_hours")
    body = api("acme").post(f"{URL}{providers['acme'].pk}/rotate-secret/", {"overlap_hours": 0}).json()
    providers["acme"].refresh_from_db()
    assert signing_secrets(providers["acme"]) == [body["secret"]]


def test_rotate_key_replaces_the_key_at_once(api, providers):
    from apps.audit.models import AuditEntry
    from apps.sms.providers.services import key_matches

    response = api("reseller").post(f"{URL}{providers['one'].pk}/rotate-key/")
    assert response.status_code == 200, response.content
    providers["one"].refresh_from_db()
    assert key_matches(providers["one"], response.json()["key"])
    assert response.json()["key_prefix"] == providers["one"].key_prefix
    assert AuditEntry.objects.filter(verb="sms_provider.rotate_key").count() == 1


def test_delete_is_audited(api, providers):
    from apps.audit.models import AuditEntry
    from apps.sms.providers.models import SmsProvider

    assert api("acme").delete(f"{URL}{providers['acme'].pk}/").status_code == 204
    assert not SmsProvider.objects.filter(pk=providers["acme"].pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(providers["acme"].pk)).exists()


def test_filters(api, providers):
    assert names(api("system").get(URL + "?tenant=acme")) == ["acme"]
    assert names(api("system").get(URL + "?reseller=one")) == ["one"]
    assert names(api("reseller").get(URL + "?tenant=initech")) == []
    assert names(api("system").get(URL + "?search=initech")) == ["initech"]
