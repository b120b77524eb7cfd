"""/api/organization/<id>/sites: one row per member with extension counts from one statement."""
import pytest

from apps.pbx.models import Location, Server
from tests.organizations.conftest import add_extensions

pytestmark = pytest.mark.django_db


def sites_path(org):
    return f"/api/organization/{org.organization.pk}/sites/"


def test_sites_list_each_members_code_location_server_extension_count_and_status(api, org, world, system_actor):
    from apps.tenants.services import tenant_suspend, tenant_update

    nyc = Location.objects.create(name="New York", code="us-nyc", timezone="America/New_York")
    server = Server.objects.create(name="pbx-nyc-1", host="10.0.0.1", sip_address="10.0.0.1", ami_host="10.0.0.1",
                                   ami_username="portal", location=nyc)
    tenant_update(actor=system_actor, tenant=world.acme, primary_server=server)
    tenant_suspend(actor=system_actor, tenant=world.globex)
    add_extensions(world.acme, [("1001", "Ann"), ("1002", "Bob"), ("1003", "Cy")])
    add_extensions(world.globex, [("2001", "Dee")])

    response = api("reseller").get(sites_path(org))
    assert response.status_code == 200 and response["X-Total-Count"] == "2"
    assert response.json() == [
        {"tenant": "acme", "name": "Acme", "site_code": "21", "location": {"code": "us-nyc", "name": "New York"},
         "address": "1 Main St", "timezone": "America/New_York", "primary_server": "pbx-nyc-1",
         "extension_count": 3, "status": "active"},
        {"tenant": "globex", "name": "Globex", "site_code": "22", "location": None, "address": "",
         "timezone": "UTC", "primary_server": None, "extension_count": 1, "status": "suspended"},
    ]


def test_site_location_is_the_members_own_before_its_servers(api, org, world):
    from apps.organizations.models import OrganizationMember

    Location.objects.create(name="Berlin", code="eu-ber")
    OrganizationMember.objects.filter(tenant=world.globex).update(location=Location.objects.get(code="eu-ber"))
    rows = {row["tenant"]: row for row in api("reseller").get(sites_path(org)).json()}
    assert rows["globex"]["location"] == {"code": "eu-ber", "name": "Berlin"}


def test_sites_make_the_same_number_of_queries_for_two_and_six_members(api, org, world, system_actor,
                                                                       django_assert_max_num_queries):
    from apps.organizations.services import organization_member_add
    from apps.tenants.services import tenant_create

    client = api("reseller")
    add_extensions(world.acme, [("1001", "Ann")])
    with django_assert_max_num_queries(20) as two:
        client.get(sites_path(org))
    for i in range(4):
        tenant = tenant_create(actor=system_actor, slug=f"site-{i}", name=f"Site {i}", reseller=world.reseller)
        add_extensions(tenant, [("1001", "Someone"), ("1002", "Else")])
        organization_member_add(actor=system_actor, organization=org.organization, tenant=tenant, site_code=f"4{i}")
    with django_assert_max_num_queries(len(two.captured_queries)) as six:
        response = client.get(sites_path(org))
    assert [row["extension_count"] for row in response.json()] == [1, 0, 2, 2, 2, 2]
    unions = [q["sql"] for q in six.captured_queries if "UNION ALL" in q["sql"]]
    assert len(unions) == 1 and unions[0].count("telephony_extension") == 6


def test_sites_paginate(api, org):
    response = api("reseller").get(sites_path(org) + "?limit=1&offset=1")
    assert [row["tenant"] for row in response.json()] == ["globex"] and response["X-Total-Count"] == "2"
    assert 'rel="prev"' in response["Link"]
    assert api("reseller").get(sites_path(org) + "?sort=x").json()["code"] == "unknown_filter"


def test_organization_key_sees_the_sites(org_api, org):
    assert [row["site_code"] for row in org_api().get(sites_path(org)).json()] == ["21", "22"]
