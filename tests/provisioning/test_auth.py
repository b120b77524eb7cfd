"""Who gets a phone's files: the phone itself (its MAC and provisioning password, Digest or Basic),
and nobody can tell an unknown MAC from a wrong password."""
from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from tests.provisioning.conftest import basic, create_phone, digest

pytestmark = pytest.mark.django_db
YEALINK = "/provisioning/001565abcdef.cfg"


@pytest.fixture(autouse=True)
def clean_failure_counts():
    from thirdlane.ratelimit import store

    store.reset()
    client = store.client()
    for key in client.scan_iter("rl:prov:*"):
        client.delete(key)
    yield


@pytest.fixture
def phone(api, exts):
    response = create_phone(api, exts)
    assert response.status_code == 201, response.content
    return response.json()


def same_answer(a, b) -> None:
    """Status, body and the shape of every header the same (nonces and request ids differ)."""
    def shape(response):
        headers = {k: re.sub(r'(nonce|opaque)="[^"]*"', r'\1=""', v) for k, v in response.items()
                   if k not in ("X-Request-ID",)}
        return response.status_code, response.content, headers

    assert shape(a) == shape(b)


def test_a_phone_without_credentials_is_challenged_with_digest(client, phone):
    response = client.get(YEALINK)
    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("Digest ") and 'qop="auth"' in challenge and "algorithm=MD5" in challenge
    assert 'realm="Thirdlane provisioning"' in challenge
    assert b"#!version" not in response.content


def test_digest_with_the_phone_password_gets_the_file(client, phone):
    response = digest(client, YEALINK, "001565abcdef", phone["new_password"])
    assert response.status_code == 200 and response.content.startswith(b"#!version:1.0.0.1")


@pytest.mark.parametrize("username", ["00:15:65:AB:CD:EF", "001565ABCDEF"])
def test_the_user_name_is_the_mac_in_any_spelling(client, phone, username):
    assert digest(client, YEALINK, username, phone["new_password"]).status_code == 200


def test_sha256_digest_and_old_rfc2069_digest_are_accepted(client, phone):
    assert digest(client, YEALINK, "001565abcdef", phone["new_password"], algorithm="SHA-256").status_code == 200
    assert digest(client, YEALINK, "001565abcdef", phone["new_password"], qop=False).status_code == 200


def test_unknown_mac_and_wrong_password_get_the_same_401(client, phone):
    wrong = digest(client, YEALINK, "001565abcdef", "Not-The-Password-123")
    unknown = digest(client, "/provisioning/001565000001.cfg", "001565000001", "Not-The-Password-123")
    assert wrong.status_code == unknown.status_code == 401
    same_answer(wrong, unknown)
    invalid = digest(client, "/provisioning/ffffffffffff.cfg", "ffffffffffff", "whatever")  # not even a MAC
    same_answer(wrong, invalid)


def test_another_phones_file_is_refused_like_a_wrong_password(api, exts, client, phone):
    other = create_phone(api, exts, mac="001565000002", lines=("1002",)).json()
    # The second phone's credentials are good, but the file is the first phone's.
    stolen = digest(client, YEALINK, "001565000002", other["new_password"])
    wrong = digest(client, YEALINK, "001565abcdef", "Not-The-Password-123")
    same_answer(stolen, wrong)
    # Its own file and the model-wide file are fine.
    assert digest(client, "/provisioning/001565000002.cfg", "001565000002", other["new_password"]).status_code == 200


def test_a_phone_of_another_tenant_cannot_fetch_acmes_file(api, world, exts, client, phone):
    globex = create_phone(api, exts, key="globex", mac="001565000003", lines=("2001",)).json()
    response = digest(client, YEALINK, "001565000003", globex["new_password"])
    assert response.status_code == 401 and b"1001-acme" not in response.content
    own = digest(client, "/provisioning/001565000003.cfg", "001565000003", globex["new_password"])
    assert own.status_code == 200 and b"2001-globex" in own.content and b"-acme" not in own.content


def test_the_signed_uri_must_be_the_file_asked_for(client, phone):
    response = digest(client, YEALINK, "001565abcdef", phone["new_password"], uri="/provisioning/y000000000104.cfg")
    assert response.status_code == 401


def test_a_forged_or_old_nonce(client, phone):
    from apps.provisioning import auth

    forged = digest(client, YEALINK, "001565abcdef", phone["new_password"], nonce="6753a1c0.deadbeef.0123456789abcdef")
    assert forged.status_code == 401 and "stale" not in forged["WWW-Authenticate"]
    old = digest(client, YEALINK, "001565abcdef", phone["new_password"], nonce=auth.make_nonce(now=1_000_000))
    # The right password with an expired nonce: asked again with stale=true, so the phone retries at once.
    assert old.status_code == 401 and "stale=true" in old["WWW-Authenticate"]


def test_basic_needs_https_unless_allowed(client, phone):
    header = basic("001565abcdef", phone["new_password"])
    assert client.get(YEALINK, HTTP_AUTHORIZATION=header).status_code == 401  # the password crossed in the clear
    assert client.get(YEALINK, HTTP_AUTHORIZATION=header, secure=True).status_code == 200
    with override_settings(PROVISIONING_BASIC_OVER_HTTP=True):
        assert client.get(YEALINK, HTTP_AUTHORIZATION=header).status_code == 200
    wrong = client.get(YEALINK, HTTP_AUTHORIZATION=basic("001565abcdef", "nope"), secure=True)
    unknown = client.get("/provisioning/001565000009.cfg", HTTP_AUTHORIZATION=basic("001565000009", "nope"),
                         secure=True)
    same_answer(wrong, unknown)


def test_unknown_file_names_are_404_before_any_lookup(client, phone, django_assert_num_queries):
    with django_assert_num_queries(0):
        for path in ("/provisioning/passwd", "/provisioning/001565abcdef.txt", "/provisioning/..%2fsettings.py"):
            response = client.get(path, HTTP_AUTHORIZATION=basic("001565abcdef", phone["new_password"]))
            assert response.status_code == 404, path


def test_other_methods_are_refused(client, phone):
    response = client.post(YEALINK, HTTP_AUTHORIZATION=basic("001565abcdef", phone["new_password"]), secure=True)
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_disabled_phone_or_another_vendors_file_is_404_once_authenticated(api, client, phone):
    assert digest(client, "/provisioning/cfg001565abcdef.xml", "001565abcdef", phone["new_password"]).status_code \
        == 404  # a Grandstream file name for a Yealink phone
    api("acme").patch(f"/api/phones/acme/{phone['id']}/", {"enabled": False})
    assert digest(client, YEALINK, "001565abcdef", phone["new_password"]).status_code == 404


def test_a_suspended_tenants_phone_is_refused(client, phone, world, system_actor):
    from apps.tenants.services import tenant_suspend

    tenant_suspend(actor=system_actor, tenant=world.acme, reason="unpaid")
    assert digest(client, YEALINK, "001565abcdef", phone["new_password"]).status_code == 401


def test_no_primary_server_is_503_so_the_phone_keeps_its_configuration(client, phone, world, system_actor):
    from apps.tenants.services import tenant_update

    tenant_update(actor=system_actor, tenant=world.acme, primary_server=None)
    response = digest(client, YEALINK, "001565abcdef", phone["new_password"])
    assert response.status_code == 503 and response["Retry-After"] == "300"


@override_settings(PROVISIONING_FAILURES_PER_IP=3)
def test_failures_from_one_address_are_limited(client, phone):
    for _ in range(3):
        assert digest(client, YEALINK, "001565abcdef", "Not-The-Password-123").status_code == 401
    blocked = client.get(YEALINK, HTTP_AUTHORIZATION=basic("001565abcdef", phone["new_password"]), secure=True)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    # Another address is not affected.
    other = client.get(YEALINK, HTTP_AUTHORIZATION=basic("001565abcdef", phone["new_password"]), secure=True,
                       REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_a_regenerated_password_and_the_previous_one_during_its_grace(api, client, phone):
    old = phone["new_password"]
    response = api("acme").post(f"/api/phones/acme/{phone['id']}/regenerate-credential/", {})
    assert response.status_code == 200, response.content
    new = response.json()["password"]
    assert new != old and response.json()["username"] == "001565abcdef"
    # The phone still has the old password: it fetches the file that carries the new one.
    got = digest(client, YEALINK, "001565abcdef", old)
    assert got.status_code == 200 and f"static.auto_provision.server.password = {new}" in got.content.decode()
    assert digest(client, YEALINK, "001565abcdef", new).status_code == 200
    # Regenerated again with no grace: only the newest works.
    newest = api("acme").post(f"/api/phones/acme/{phone['id']}/regenerate-credential/", {"grace_hours": 0}).json()
    assert digest(client, YEALINK, "001565abcdef", new).status_code == 401
    assert digest(client, YEALINK, "001565abcdef", newest["password"]).status_code == 200


def test_last_seen_is_recorded_without_a_write_per_request(api, client, phone):
    digest(client, YEALINK, "001565abcdef", phone["new_password"], HTTP_USER_AGENT="Yealink SIP-T54W 96.86.0.70")
    listed = api("acme").get("/api/phones/acme/").json()[0]
    assert listed["last_seen_at"] and listed["last_seen_ip"] == "127.0.0.1"
    from apps.provisioning.registry.models import Device

    assert Device.objects.get(mac="001565abcdef").last_user_agent == "Yealink SIP-T54W 96.86.0.70"
    # A second fetch within a minute: two statements (the device with its tenant and server; the
    # phone with its lines and extensions, on schema-qualified tables), no search path switch, no UPDATE.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(YEALINK)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(YEALINK, HTTP_AUTHORIZATION=_answer(first, phone["new_password"]))
    assert response.status_code == 200
    # (A SET search_path may lead: the test's own API calls before left the connection in acme's schema.)
    statements = [q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith("SET ")]
    assert statements == ["SELECT", "SELECT"], statements


def _answer(challenge_response, password: str, path: str = YEALINK) -> str:
    import hashlib

    challenge = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge_response["WWW-Authenticate"]))
    ha1 = hashlib.md5(f"001565abcdef:{challenge['realm']}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{path}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{challenge['nonce']}:00000001:abc:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="001565abcdef", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
            f'uri="{path}", qop=auth, nc=00000001, cnonce="abc", response="{response}"')


def test_the_phone_password_is_stored_encrypted(phone):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM provisioning_registry_device WHERE mac = %s", ["001565abcdef"])
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:") and phone["new_password"] not in stored


def test_deleting_the_phone_revokes_it(api, client, phone, world):
    assert api("acme").delete(f"/api/phones/acme/{phone['id']}/").status_code == 204
    assert digest(client, YEALINK, "001565abcdef", phone["new_password"]).status_code == 401
    with tenant_context(world.acme):
        from apps.provisioning.models import Phone

        assert not Phone.objects.exists()
