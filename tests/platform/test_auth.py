"""Credentials: API keys (create, rotate, revoke, expire), HTTP Basic and the session cookie."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import ApiKey

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["code"]


def test_missing_credentials_is_401_not_authenticated(api, world):
    response = api().get("/api/tenants/")
    assert response.status_code == 401 and code(response) == "not_authenticated"
    assert "WWW-Authenticate" in response


@pytest.mark.parametrize("key,expected", [
    ("nonsense", "invalid_api_key"),
    ("tl_short_x", "invalid_api_key"),
    ("tl_AAAAAAAA_" + "B" * 32, "invalid_api_key"),
])
def test_malformed_or_unknown_keys_are_refused(world, key, expected):
    from tests.conftest import ApiClient

    response = ApiClient(key).get("/api/tenants/")
    assert response.status_code == 401 and code(response) == expected


def test_key_with_right_prefix_but_wrong_secret_is_refused(world):
    from tests.conftest import ApiClient

    real = world.keys["acme"]
    forged = real[:12] + ("A" if real[12] != "A" else "B") + real[13:]
    response = ApiClient(forged).get("/api/tenants/")
    assert response.status_code == 401 and code(response) == "invalid_api_key"


def test_created_key_is_shown_once_and_stored_hashed(api, world):
    response = api("reseller").post("/api/api-keys/", {"name": "billing", "scope": "tenant", "tenant": "acme",
                                                       "read_only": True})
    assert response.status_code == 201, response.content
    body = response.json()
    key = body["key"]
    assert key.startswith("tl_") and body["key_prefix"] == key[:11] + "_…"
    stored = ApiKey.objects.get(pk=body["id"])
    assert key not in stored.key_hash and len(stored.key_hash) == 64
    listed = api("reseller").get("/api/api-keys/").json()
    assert all("key" not in item for item in listed)
    assert api("reseller").get(f"/api/api-keys/{body['id']}/").json().get("key") is None
    from tests.conftest import ApiClient

    new_client = ApiClient(key)
    assert new_client.get("/api/tenants/").json()[0]["slug"] == "acme"
    assert new_client.patch("/api/tenants/acme/", {"name": "x"}).status_code == 403


def test_keys_cannot_be_issued_outside_the_callers_scope(api, world):
    response = api("reseller").post("/api/api-keys/", {"name": "x", "scope": "system"})
    assert response.status_code == 403 and code(response) == "scope_violation"
    response = api("reseller").post("/api/api-keys/", {"name": "x", "scope": "tenant", "tenant": "initech"})
    assert response.status_code == 400 and "tenant" in response.json()["errors"]
    response = api("acme").post("/api/api-keys/", {"name": "x", "scope": "tenant", "tenant": "globex"})
    assert response.status_code == 400
    response = api("acme").post("/api/api-keys/", {"name": "x", "scope": "reseller", "reseller": "one"})
    assert response.status_code == 400
    response = api("acme").post("/api/api-keys/", {"name": "mine", "scope": "tenant", "tenant": "acme"})
    assert response.status_code == 201


def test_key_lists_are_scoped(api, world):
    reseller_view = {k["id"] for k in api("reseller").get("/api/api-keys/?limit=100").json()}
    acme_view = {k["id"] for k in api("acme").get("/api/api-keys/").json()}
    initech_key = ApiKey.objects.get(tenant=world.initech)
    assert initech_key.pk not in reseller_view
    assert acme_view == set(ApiKey.objects.filter(tenant=world.acme).values_list("pk", flat=True))
    assert api("acme").get(f"/api/api-keys/{initech_key.pk}/").status_code == 404


def test_revoked_key_fails_at_once(api, world):
    from tests.conftest import ApiClient

    key_id = ApiKey.objects.get(tenant=world.globex).pk
    assert api("globex").get("/api/tenants/").status_code == 200
    assert api("reseller").delete(f"/api/api-keys/{key_id}/").status_code == 204
    response = ApiClient(world.keys["globex"]).get("/api/tenants/")
    assert response.status_code == 401 and code(response) == "api_key_revoked"


def test_rotated_key_works_through_the_grace_period_and_fails_after(api, world):
    from tests.conftest import ApiClient

    old = world.keys["globex"]
    key_id = ApiKey.objects.get(tenant=world.globex).pk
    response = api("reseller").post(f"/api/api-keys/{key_id}/rotate/", {"grace_seconds": 3600})
    assert response.status_code == 201
    new = response.json()["key"]
    assert new != old and response.json()["rotated_from"] == key_id
    assert ApiClient(old).get("/api/tenants/").status_code == 200
    assert ApiClient(new).get("/api/tenants/").status_code == 200
    old_row = ApiKey.objects.get(pk=key_id)
    assert timedelta(minutes=59) < old_row.expires_at - timezone.now() <= timedelta(hours=1)
    # the grace period passes
    ApiKey.objects.filter(pk=key_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = ApiClient(old).get("/api/tenants/")
    assert response.status_code == 401 and code(response) == "api_key_expired"
    assert ApiClient(new).get("/api/tenants/").status_code == 200
    # a rotated key cannot be rotated twice
    assert api("reseller").post(f"/api/api-keys/{key_id}/rotate/").status_code == 409


def test_default_rotation_grace_is_24_hours(api, world):
    key_id = ApiKey.objects.get(tenant=world.globex).pk
    api("reseller").post(f"/api/api-keys/{key_id}/rotate/")
    remaining = ApiKey.objects.get(pk=key_id).expires_at - timezone.now()
    assert timedelta(hours=23, minutes=59) < remaining <= timedelta(hours=24)


def test_expired_key_is_refused(world):
    from tests.conftest import ApiClient

    ApiKey.objects.filter(tenant=world.globex).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = ApiClient(world.keys["globex"]).get("/api/tenants/")
    assert response.status_code == 401 and code(response) == "api_key_expired"


def test_last_used_at_is_recorded(api, world):
    assert ApiKey.objects.get(tenant=world.globex).last_used_at is None
    api("globex").get("/api/tenants/")
    assert ApiKey.objects.get(tenant=world.globex).last_used_at is not None


def test_basic_auth_works_and_wrong_password_is_refused(world):
    from tests.conftest import ApiClient

    ok = ApiClient(basic=("reseller", "pw-reseller-1")).get("/api/tenants/")
    assert ok.status_code == 200 and [t["slug"] for t in ok.json()] == ["acme", "globex"]
    bad = ApiClient(basic=("reseller", "wrong")).get("/api/tenants/")
    assert bad.status_code == 401 and code(bad) == "invalid_credentials"
    nobody = ApiClient(basic=("ghost", "x")).get("/api/tenants/")
    assert nobody.status_code == 401 and code(nobody) == "invalid_credentials"
    # the cached verification does not outlive a password change
    world.users["reseller"].set_password("pw-changed-2")
    world.users["reseller"].save()
    assert ApiClient(basic=("reseller", "pw-reseller-1")).get("/api/tenants/").status_code == 401
    assert ApiClient(basic=("reseller", "pw-changed-2")).get("/api/tenants/").status_code == 200


def test_tenant_admin_basic_sees_only_its_tenant(world):
    from tests.conftest import ApiClient

    response = ApiClient(basic=("acme-admin", "pw-acme-1")).get("/api/tenants/")
    assert [t["slug"] for t in response.json()] == ["acme"]


def test_session_cookie_reads_and_writes_need_csrf(world):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="reseller", password="pw-reseller-1")
    assert client.get("/api/tenants/").status_code == 200
    response = client.patch("/api/tenants/acme/", data='{"name": "Acme 2"}', content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    client.get("/admin/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.patch("/api/tenants/acme/", data='{"name": "Acme 2"}', content_type="application/json",
                            HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["name"] == "Acme 2"


def test_wrong_content_type_and_malformed_json(api, world):
    client = api("reseller")
    response = client.client.post("/api/tenants/", data="slug=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and code(response) == "unsupported_media_type"
    response = client.client.post("/api/tenants/", data="{nope", content_type="application/json")
    assert response.status_code == 400 and code(response) == "malformed_json"
    response = client.client.post("/api/tenants/", data="[1, 2]", content_type="application/json")
    assert response.status_code == 400 and code(response) == "validation_error"


def test_body_too_large_is_413(api, world):
    client = api("reseller")
    big = '{"slug": "big", "name": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = client.client.post("/api/tenants/", data=big, content_type="application/json")
    assert response.status_code == 413 and code(response) == "payload_too_large"


def test_unknown_api_path_is_problem_json(api, world):
    response = api("reseller").get("/api/no-such-thing/")
    assert response.status_code == 404 and code(response) == "not_found"


def test_method_not_allowed_is_problem_json(api, world):
    response = api("reseller").client.put("/api/tenants/", {}, format="json")
    assert response.status_code == 405 and code(response) == "method_not_allowed"


def test_null_characters_are_a_clear_error_not_a_server_error(api, world):
    """PostgreSQL cannot store U+0000; found by fuzzing the OpenAPI document (schemathesis)."""
    response = api("reseller").post("/api/tenants/", {"slug": "nul", "name": "x", "reseller": "one\u0000"})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert "reseller" in response.json()["errors"]
    response = api("reseller").post("/api/tenants/", {"slug": "nul", "name": "x", "notes": ["a", {"b": "\u0000"}]})
    assert response.status_code == 400 and "notes[1].b" in response.json()["errors"]
    response = api("reseller").get("/api/tenants/?search=a%00b")
    assert response.status_code == 400 and response.json()["code"] == "invalid_filter"
    response = api("acme").get("/api/extensions/acme/?search=%00")
    assert response.status_code == 400 and response.json()["code"] == "invalid_filter"
