"""Defects a review found in the foundation, each pinned by a test that failed before its fix."""
from __future__ import annotations

import pytest

from apps.tenants.models import Tenant


def codes(response):
    return response.json()["code"]


# --- tenant credentials cannot raise their own limits -----------------------------------------

@pytest.mark.parametrize("field,value", [
    ("max_extensions", 9999), ("max_dids", 9999), ("max_trunks", 9999), ("max_queues", 9999),
    ("primary_server", None), ("extension_length", 6), ("slug", "acme-two"),
])
@pytest.mark.parametrize("who", ["acme_key", "acme_basic"])
def test_tenant_credentials_cannot_change_what_the_reseller_sets(api, world, field, value, who):
    from apps.pbx.models import Location, Server

    location = Location.objects.create(code="ams", name="Amsterdam")
    server = Server.objects.create(name="pbx1", host="10.0.0.1", location=location)
    Tenant.objects.filter(pk=world.acme.pk).update(primary_server=server)
    client = api("acme") if who == "acme_key" else api(basic=("acme-admin", "pw-acme-1"))
    before = Tenant.objects.values().get(pk=world.acme.pk)

    response = client.patch("/api/tenants/acme/", {field: value})

    assert response.status_code == 403 and codes(response) == "permission_denied"
    assert response.json()["errors"][field][0]["code"] == "read_only_field"
    assert Tenant.objects.values().get(pk=world.acme.pk) == before


def test_tenant_credentials_change_their_own_name_and_may_send_limits_back_unchanged(api, world):
    current = api("acme").get("/api/tenants/acme/").json()
    body = {k: current[k] for k in ("name", "max_extensions", "max_dids", "primary_server", "timezone")}
    body["name"] = "Acme Corporation"
    response = api("acme").patch("/api/tenants/acme/", body)
    assert response.status_code == 200, response.json()
    assert Tenant.objects.get(pk=world.acme.pk).name == "Acme Corporation"


def test_the_reseller_still_sets_limits(api, world):
    response = api("reseller").patch("/api/tenants/acme/", {"max_extensions": 500, "primary_server": None})
    assert response.status_code == 200
    assert Tenant.objects.get(pk=world.acme.pk).max_extensions == 500


def test_tenant_admin_sees_limits_read_only_in_the_admin(client, world):
    client.force_login(world.users["acme_admin"])
    page = client.get(f"/admin/tenants/tenant/{world.acme.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name"' in html
    assert 'name="max_extensions"' not in html and 'name="primary_server"' not in html


# --- one code for "no such tenant" ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/tenants/nowhere/", "/api/extensions/nowhere/", "/api/tenants/initech/"])
def test_unknown_or_foreign_tenant_is_tenant_not_found_everywhere(api, world, path):
    response = api("reseller").get(path)
    assert response.status_code == 404 and codes(response) == "tenant_not_found"


# --- every viewset has the guards --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/audit-log/?search=%00", "/api/webhook-events/?group=%00"])
def test_nul_characters_are_refused_on_every_list(api, world, path):
    response = api("system").get(path)
    assert response.status_code == 400 and codes(response) == "invalid_filter"


def test_every_api_view_derives_from_the_one_base():
    from django.urls import get_resolver
    from rest_framework.views import APIView

    from thirdlane.api.views import HealthView
    from thirdlane.api.viewsets import ApiViewSet

    def walk(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns)
            else:
                yield p

    checked = 0
    for pattern in walk(get_resolver().url_patterns):
        cls = getattr(pattern.callback, "cls", None)
        if cls is None or not issubclass(cls, APIView) or cls is HealthView:
            continue
        if cls.__module__.startswith("drf_spectacular"):
            continue
        assert issubclass(cls, ApiViewSet), f"{cls.__module__}.{cls.__name__} skips ApiViewSet"
        checked += 1
    assert checked > 30


# --- unknown body fields -----------------------------------------------------------------------

@pytest.mark.parametrize("path,body", [
    ("/api/crm-contacts/acme/", {"first_name": "Ann", "bogus": 1}),
    ("/api/crm-contacts/acme/", {"first_name": "Ann", "phones": ["+14155550100"]}),
    ("/api/extensions/acme/", {"number": "1001", "name": "Ann", "colour": "red"}),
    ("/api/tenants/", {"slug": "hooli", "name": "Hooli", "max_extensionz": 5}),
    ("/api/tenants/acme/suspend/", {"reason": "unpaid", "notify": True}),
])
def test_unknown_body_fields_are_refused_per_field(api, world, path, body):
    from apps.crm.models import Contact
    from django_tenants.utils import tenant_context

    response = api("reseller").post(path, body)
    assert response.status_code == 400, response.json()
    unknown = [k for k in body if k in ("bogus", "phones", "colour", "max_extensionz", "notify")]
    assert response.json()["errors"][unknown[0]][0]["code"] == "unknown_field"
    with tenant_context(world.acme):
        assert not Contact.objects.exists()
    assert not Tenant.objects.filter(slug="hooli").exists()
    assert Tenant.objects.get(slug="acme").status == "active"


def test_unknown_nested_fields_are_named_with_their_path(api, world):
    response = api("acme").post("/api/extensions/acme/bulk/", {"rows": [{"number": "1001", "name": "A"},
                                                                        {"number": "1002", "name": "B", "oops": 1}]})
    assert response.status_code == 400
    assert response.json()["errors"]["rows[1].oops"][0]["code"] == "unknown_field"


def test_read_only_fields_sent_back_are_accepted(api, world):
    created = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Ann"}).json()
    created["last_name"] = "Lee"
    response = api("acme").put(f"/api/crm-contacts/acme/{created['id']}/", created)
    assert response.status_code == 200, response.json()


# --- one rule for formula cells in every export ----------------------------------------------------

@pytest.mark.parametrize("cell,written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("@SUM(A1)", "'@SUM(A1)"), ("+1 415-555-0100", "+1 415-555-0100"),
    ("+14155550100", "+14155550100"), ("-12.5", "-12.5"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("\tx", "'\tx"), ("Ann", "Ann"), ("", ""),
])
def test_every_export_neutralises_formulas_the_same_way(cell, written):
    from apps.telephony import resources
    from apps.crm import admin as crm_admin
    from thirdlane import csvsafe

    assert csvsafe.neutralise(cell) == written
    assert resources.neutralise is csvsafe.neutralise and crm_admin.neutralise is csvsafe.neutralise
    assert csvsafe.unneutralise(written) == cell


def test_date_time_filters_take_any_rfc3339_offset(api, world):
    # PostgreSQL refuses offsets beyond 15:59; the filter compares in UTC, so they work.
    response = api("system").get("/api/crm-leads/acme/?created_after=0136-09-10T03:07:15-17:04")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/api/crm-leads/acme/?created_after=0001-01-01T00:00:00%2B05:00",
                                  "/api/calls/?started_after=2026-13-01T00:00:00Z",
                                  "/api/calls/?started_after=0001-01-01T00:00:00%2B05:00"])
def test_out_of_range_date_times_are_400_not_500(api, world, path):
    response = api("system").get(path)
    assert response.status_code == 400 and response.json()["code"] == "invalid_filter", response.content
