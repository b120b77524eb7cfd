"""Rate limits: per credential and per tenant in Redis (shared by web workers), overrides per key
and per reseller, 429 with Retry-After and RateLimit-* headers, failed-login throttling for HTTP
Basic and the admin, and failing open when Redis is down."""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from apps.accounts.models import ApiKey, Scope
from apps.accounts.services import api_key_create
from thirdlane.ratelimit import policy, store
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


def _forget_everything():
    client = store.client()
    keys = list(client.scan_iter("rl:*"))
    if keys:
        client.delete(*keys)
    policy.clear_caches()
    store.reset()


@pytest.fixture
def limits(settings):
    """Small limits (5 per credential, 100 per tenant a minute) on empty buckets."""
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMIT_PER_CREDENTIAL = 5
    settings.RATE_LIMIT_PER_TENANT = 100
    settings.RATE_LIMIT_WINDOW = 60
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_IP = 100
    settings.LOGIN_FAILURE_WINDOW = 300
    _forget_everything()
    yield settings
    _forget_everything()


def statuses(client, path, n):
    return [client.get(path).status_code for _ in range(n)]


# --- API limits ----------------------------------------------------------------------------

def test_over_the_credential_limit_is_429_rate_limited_with_retry_after_and_ratelimit_headers(api, limits):
    client = api("acme")
    remaining = []
    for _ in range(5):
        response = client.get("/api/extensions/acme/")
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "5"
        remaining.append(int(response["RateLimit-Remaining"]))
        assert 0 < int(response["RateLimit-Reset"]) <= 60
    assert remaining == [4, 3, 2, 1, 0]

    refused = client.get("/api/extensions/acme/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited" and refused.json()["status"] == 429
    assert 1 <= int(refused["Retry-After"]) <= 12  # one request refills every 60 s / 5
    assert refused["RateLimit-Limit"] == "5" and refused["RateLimit-Remaining"] == "0"
    assert int(refused["RateLimit-Reset"]) > 0
    assert '5;w=60;comment="credential"' in refused["RateLimit-Policy"]
    assert '100;w=60;comment="tenant"' in refused["RateLimit-Policy"]


def test_each_credential_has_its_own_budget(api, limits):
    assert statuses(api("acme"), "/api/extensions/acme/", 6)[-1] == 429
    assert statuses(api("acme_ro"), "/api/extensions/acme/", 5) == [200] * 5
    assert api("reseller").get("/api/tenants/").status_code == 200


def test_basic_and_session_users_are_limited_and_see_the_headers(api, world, limits):
    basic = api(basic=("reseller", "pw-reseller-1"))
    assert statuses(basic, "/api/tenants/", 6) == [200] * 5 + [429]

    session = Client()
    session.force_login(world.users["admin"])
    response = session.get("/api/tenants/")
    assert response.status_code == 200 and response["RateLimit-Remaining"] == "4"


def test_a_key_with_its_own_rate_limit(api, world, limits):
    limits.RATE_LIMIT_PER_CREDENTIAL = 100
    created = api("reseller").post("/api/api-keys/", {"name": "slow", "scope": "tenant", "tenant": "acme",
                                                       "rate_limit": 2})
    assert created.status_code == 201 and created.json()["rate_limit"] == 2
    slow = ApiClient(created.json()["key"])
    first = slow.get("/api/extensions/acme/")
    assert first["RateLimit-Limit"] == "2" and '2;w=60;comment="credential"' in first["RateLimit-Policy"]
    assert statuses(slow, "/api/extensions/acme/", 2) == [200, 429]
    assert api("acme").get("/api/extensions/acme/").status_code == 200


def test_a_tenant_key_cannot_set_a_rate_limit(api, limits):
    response = api("acme").post("/api/api-keys/", {"name": "fast", "scope": "tenant", "tenant": "acme",
                                                    "rate_limit": 100000})
    assert response.status_code == 403 and "rate_limit" in response.json()["errors"]
    assert not ApiKey.objects.filter(name="fast").exists()


def test_rotation_keeps_the_keys_rate_limit(world, system_actor):
    from apps.accounts.services import api_key_rotate

    issued = api_key_create(actor=system_actor, name="k", scope=Scope.TENANT, tenant=world.acme, rate_limit=7)
    assert api_key_rotate(actor=system_actor, api_key=issued.api_key).api_key.rate_limit == 7


def test_a_resellers_rate_limit_applies_to_its_credentials_and_tenants(api, world, limits, system_actor):
    world.reseller.api_rate_limit = 3
    world.reseller.save()
    assert statuses(api("acme"), "/api/extensions/acme/", 4) == [200, 200, 200, 429]
    assert statuses(api("reseller"), "/api/tenants/", 4) == [200, 200, 200, 429]
    assert statuses(api(basic=("reseller", "pw-reseller-1")), "/api/tenants/", 4)[-1] == 429
    # The other reseller keeps the platform default (5).
    assert statuses(api("initech"), "/api/extensions/initech/", 4) == [200] * 4
    # A key's own limit wins over its reseller's (for the key; its tenants keep the reseller's).
    own = ApiClient(api_key_create(actor=system_actor, name="own", scope=Scope.RESELLER, reseller=world.reseller,
                                   rate_limit=10).key)
    assert statuses(own, "/api/tenants/", 4) == [200] * 4
    assert statuses(own, "/api/extensions/globex/", 4) == [200, 200, 200, 429]


def test_the_tenant_limit_is_shared_by_every_key_of_the_tenant(api, world, limits):
    limits.RATE_LIMIT_PER_CREDENTIAL = 100
    limits.RATE_LIMIT_PER_TENANT = 4
    acme, acme_ro, reseller = api("acme"), api("acme_ro"), api("reseller")
    assert [c.get("/api/extensions/acme/").status_code for c in (acme, acme_ro, acme, acme_ro)] == [200] * 4
    for client in (acme, acme_ro, reseller):
        refused = client.get("/api/extensions/acme/")
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert refused["RateLimit-Limit"] == "4" and refused["RateLimit-Remaining"] == "0"
    # Other tenants and platform paths are not affected.
    assert reseller.get("/api/extensions/globex/").status_code == 200
    assert reseller.get("/api/tenants/").status_code == 200


def test_asking_for_someone_elses_tenant_does_not_spend_its_budget(api, limits):
    limits.RATE_LIMIT_PER_CREDENTIAL = 100
    limits.RATE_LIMIT_PER_TENANT = 2
    assert statuses(api("globex"), "/api/extensions/acme/", 4) == [404] * 4
    assert statuses(api("other_reseller"), "/api/extensions/acme/", 4) == [404] * 4
    assert statuses(api("acme"), "/api/extensions/acme/", 3) == [200, 200, 429]


def test_a_refused_request_costs_nothing_elsewhere(api, world, limits, system_actor):
    limits.RATE_LIMIT_PER_CREDENTIAL = 3
    limits.RATE_LIMIT_PER_TENANT = 12
    assert statuses(api("acme"), "/api/extensions/acme/", 10) == [200] * 3 + [429] * 7
    roomy = ApiClient(api_key_create(actor=system_actor, name="roomy", scope=Scope.TENANT, tenant=world.acme,
                                     rate_limit=100).key)
    response = roomy.get("/api/extensions/acme/")
    # The tenant paid for the 3 allowed requests and this one, not for the 7 refused.
    assert response.status_code == 200
    assert (response["RateLimit-Limit"], response["RateLimit-Remaining"]) == ("12", "8")


def test_disabled_rate_limits_send_no_headers(api, limits):
    limits.RATE_LIMIT_ENABLED = False
    response = api("acme").get("/api/extensions/acme/")
    assert response.status_code == 200 and "RateLimit-Limit" not in response


# --- failed sign-ins -----------------------------------------------------------------------

def test_failed_basic_logins_are_throttled_per_user_name_without_revealing_who_exists(api, world, limits):
    for username in ("reseller", "nobody"):
        assert statuses(api(basic=(username, "wrong")), "/api/tenants/", 3) == [401] * 3
    right = api(basic=("reseller", "pw-reseller-1")).get("/api/tenants/")
    unknown = api(basic=("nobody", "whatever")).get("/api/tenants/")
    for refused in (right, unknown):
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused["Retry-After"]) <= 300
    assert right.json()["detail"] == unknown.json()["detail"]
    # Another user name from the same address still signs in.
    assert api(basic=("admin", "pw-admin-1")).get("/api/tenants/").status_code == 200


def test_failed_basic_logins_are_throttled_per_address(api, world, limits):
    limits.LOGIN_FAILURES_PER_IP = 4
    for username in ("a", "b", "c", "d"):
        assert api(basic=(username, "wrong")).get("/api/tenants/").status_code == 401
    assert api(basic=("admin", "pw-admin-1")).get("/api/tenants/").status_code == 429
    elsewhere = api(basic=("admin", "pw-admin-1")).get("/api/tenants/", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 200


def test_a_successful_login_clears_its_user_names_failures(api, world, limits):
    assert statuses(api(basic=("reseller", "wrong")), "/api/tenants/", 2) == [401] * 2
    assert api(basic=("reseller", "pw-reseller-1")).get("/api/tenants/").status_code == 200
    assert statuses(api(basic=("reseller", "wrong")), "/api/tenants/", 2) == [401] * 2
    assert api(basic=("reseller", "pw-reseller-1")).get("/api/tenants/").status_code == 200


def _admin_login(username, password, client=None):
    client = client or Client()
    return client, client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_failed_admin_logins_are_throttled_with_a_form_error(world, limits):
    for username in ("reseller", "nobody"):
        for _ in range(3):
            _, response = _admin_login(username, "wrong")
            assert response.status_code == 200 and "Please enter the correct username" in response.content.decode()
    client, response = _admin_login("reseller", "pw-reseller-1")
    _, unknown = _admin_login("nobody", "x")
    for refused in (response, unknown):
        html = refused.content.decode()
        assert refused.status_code == 200 and "Too many failed sign-in attempts" in html
    assert "_auth_user_id" not in client.session
    _, other = _admin_login("other", "pw-other-1")
    assert other.status_code == 302  # another user name is not affected


def test_the_tenant_admin_login_is_throttled_too(world, limits):
    for _ in range(3):
        _admin_login_at = Client().post("/t/acme/admin/login/", {"username": "acme-admin", "password": "wrong"})
        assert _admin_login_at.status_code == 200
    refused = Client().post("/t/acme/admin/login/", {"username": "acme-admin", "password": "pw-acme-1"})
    assert "Too many failed sign-in attempts" in refused.content.decode()


# --- Redis down: fail open -----------------------------------------------------------------

def test_without_redis_requests_and_logins_are_allowed_with_a_warning(api, world, limits, caplog):
    limits.RATE_LIMIT_PER_CREDENTIAL = 1
    limits.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="thirdlane.ratelimit"):
        assert statuses(api("acme"), "/api/extensions/acme/", 3) == [200] * 3
        assert statuses(api(basic=("reseller", "wrong")), "/api/tenants/", 4) == [401] * 4
        assert api(basic=("reseller", "pw-reseller-1")).get("/api/tenants/").status_code == 200
        _, response = _admin_login("reseller", "wrong")
        assert response.status_code == 200
    assert "RateLimit-Limit" not in api("acme").get("/api/extensions/acme/")
    assert any("Redis is unavailable" in r.getMessage() for r in caplog.records)
    store.reset()
    limits.RATE_LIMIT_REDIS_URL = ""
    assert statuses(api("acme"), "/api/extensions/acme/", 2) == [200, 429]  # back when Redis is


# --- shared by web workers -----------------------------------------------------------------

@pytest.fixture
def two_workers(committed_world, settings):
    from django.db import connection

    from tests.helpers.gunicorn import Gunicorn

    _forget_everything()
    server = Gunicorn(connection.settings_dict["NAME"], workers=2, extra_env={
        # An hour's window: no request refills during the test, however slow the machine.
        "RATE_LIMIT_ENABLED": "1", "RATE_LIMIT_PER_CREDENTIAL": "10", "RATE_LIMIT_WINDOW": "3600",
        "RATE_LIMIT_PER_TENANT": "1000"}).start()
    yield server
    server.stop()
    _forget_everything()


@pytest.mark.django_db(transaction=True)
def test_the_limit_is_shared_by_two_gunicorn_workers(two_workers, committed_world):
    import requests

    url = f"{two_workers.url}/api/extensions/acme/"
    key = committed_world.keys["acme"]

    def send(n: int, headers: dict) -> list:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda _: requests.get(url, headers=headers, timeout=30), range(n)))

    def pids() -> set[int]:
        return {pid for pid, status, _ in two_workers.served() if status != 401}

    # Until both workers have their application loaded, one of them may answer everything.
    deadline = time.monotonic() + 60
    while len({pid for pid, _, _ in two_workers.served()}) < 2 and time.monotonic() < deadline:
        send(8, {})  # 401: counts against no budget
    assert len({pid for pid, _, _ in two_workers.served()}) == 2, two_workers.log()[-2000:]

    def logged(n: int) -> None:  # a worker writes its access line just after answering
        deadline = time.monotonic() + 10
        while sum(1 for _, status, _ in two_workers.served() if status != 401) < n and time.monotonic() < deadline:
            time.sleep(0.05)

    responses = send(40, {"X-API-Key": key})
    logged(len(responses))
    while len(pids()) < 2 and len(responses) < 400:
        responses += send(8, {"X-API-Key": key})
        logged(len(responses))
    codes = [r.status_code for r in responses]
    # Both workers served this key; counted apart, the second would have let through requests of
    # its own past the first one's ten.
    assert len(pids()) == 2, two_workers.log()[-2000:]
    assert codes.count(200) == 10 and codes.count(429) == len(codes) - 10
    assert {r.headers["RateLimit-Limit"] for r in responses} == {"10"}
    assert all(int(r.headers["Retry-After"]) > 0 for r in responses if r.status_code == 429)
