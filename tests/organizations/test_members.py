"""Adding, changing and removing member sites, and the input the API refuses."""
import jsonschema
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.events.registry import EVENT_TYPES
from apps.organizations.models import OrganizationMember
from apps.pbx.models import Location
from apps.tenants import schemas
from apps.tenants.models import Tenant
from tests.organizations.conftest import add_extensions

pytestmark = pytest.mark.django_db


def problem(response, status, code, field):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    assert field in body["errors"], body
    return body


@pytest.fixture
def hooli(world, system_actor):
    from apps.tenants.services import tenant_create

    return tenant_create(actor=system_actor, slug="hooli", name="Hooli", reseller=world.reseller)


def members_path(org):
    return f"/api/organization/{org.organization.pk}/members/"


def test_adding_a_member_returns_it_and_emits_member_added(api, org, hooli):
    Location.objects.create(name="Paris", code="eu-par", timezone="Europe/Paris")
    response = api("reseller").post(members_path(org), {
        "tenant": "hooli", "site_code": "23", "location": "eu-par", "address": "1 rue de Rivoli",
        "timezone": "Europe/Paris"})
    assert response.status_code == 201, response.content
    assert response.json() | {"created_at": None, "updated_at": None} == {
        "tenant": "hooli", "tenant_name": "Hooli", "site_code": "23", "location": "eu-par",
        "address": "1 rue de Rivoli", "timezone": "Europe/Paris", "created_at": None, "updated_at": None}
    event = OutboxEvent.objects.filter(type="organization.member.added").latest("id")
    assert event.system and event.tenant_id == hooli.pk and event.tenant_slug == "hooli"
    assert event.data["organization"]["slug"] == "acme-group" and event.data["site_code"] == "23"
    jsonschema.validate(event.data, EVENT_TYPES["organization.member.added"].schema)
    assert [m["tenant"] for m in api("reseller").get(members_path(org)).json()] == ["acme", "globex", "hooli"]


def test_a_tenant_already_in_another_organization_is_refused(api, org, hooli, system_actor, world):
    other = api("reseller").post("/api/organization/", {"name": "Other", "slug": "other-group"}).json()
    response = api("reseller").post(f"/api/organization/{other['id']}/members/", {"tenant": "acme", "site_code": "1"})
    body = problem(response, 409, "tenant_in_organization", "tenant")
    assert "another organization" in body["detail"]
    response = api("reseller").post(members_path(org), {"tenant": "acme", "site_code": "29"})
    assert "this organization" in problem(response, 409, "tenant_in_organization", "tenant")["detail"]
    assert OrganizationMember.objects.get(tenant=world.acme).site_code == "21"


def test_a_tenant_of_another_reseller_is_refused(api, org):
    # the reseller cannot even name it: it does not exist in its scope
    response = api("reseller").post(members_path(org), {"tenant": "initech", "site_code": "31"})
    body = problem(response, 400, "validation_error", "tenant")
    assert body["errors"]["tenant"][0]["code"] == "does_not_exist"
    # the system sees it, and is told why it cannot join
    response = api("system").post(members_path(org), {"tenant": "initech", "site_code": "31"})
    problem(response, 422, "tenant_reseller_mismatch", "tenant")
    assert not OrganizationMember.objects.filter(tenant__slug="initech").exists()


def test_a_duplicate_site_code_is_refused(api, org, hooli):
    response = api("reseller").post(members_path(org), {"tenant": "hooli", "site_code": "21"})
    assert "acme" in problem(response, 409, "site_code_taken", "site_code")["detail"]
    response = api("reseller").patch(members_path(org) + "globex/", {"site_code": "21"})
    problem(response, 409, "site_code_taken", "site_code")


def test_a_site_code_that_makes_dialled_numbers_ambiguous_is_refused(api, org, hooli, system_actor):
    from apps.tenants.services import tenant_update

    # acme dials 4-digit extensions behind "21": 21xxxx. hooli with 3 digits behind "212" would be 212xxx.
    tenant_update(actor=system_actor, tenant=hooli, extension_length=3)
    response = api("reseller").post(members_path(org), {"tenant": "hooli", "site_code": "212"})
    problem(response, 409, "site_code_ambiguous", "site_code")
    # a different total length, or no common prefix, is fine
    assert api("reseller").post(members_path(org), {"tenant": "hooli", "site_code": "2"}).status_code == 201


@pytest.mark.parametrize("body,field", [
    ({"tenant": "hooli", "site_code": "ab"}, "site_code"),
    ({"tenant": "hooli", "site_code": "1234567"}, "site_code"),
    ({"tenant": "hooli", "site_code": ""}, "site_code"),
    ({"tenant": "hooli"}, "site_code"),
    ({"site_code": "5"}, "tenant"),
    ({"tenant": "hooli", "site_code": "5", "timezone": "Mars/Olympus"}, "timezone"),
    ({"tenant": "hooli", "site_code": "5", "location": "nowhere"}, "location"),
    ({"tenant": "no-such", "site_code": "5"}, "tenant"),
])
def test_invalid_member_fields_are_400_on_the_field(api, org, hooli, body, field):
    response = api("reseller").post(members_path(org), body)
    problem(response, 400, "validation_error", field)


def test_updating_a_member_changes_site_details_and_emits_member_updated(api, org):
    response = api("reseller").patch(members_path(org) + "globex/", {"site_code": "25", "address": "Main St 2"})
    assert response.status_code == 200 and response.json()["site_code"] == "25"
    assert OrganizationMember.objects.get(tenant__slug="globex").address == "Main St 2"
    event = OutboxEvent.objects.get(type="organization.member.updated")
    assert event.data["site_code"] == "25" and event.tenant_slug == "globex"
    # the tenant cannot be changed through a member
    response = api("reseller").patch(members_path(org) + "globex/", {"tenant": "acme"})
    assert response.status_code == 200 and response.json()["tenant"] == "globex"


def test_removing_a_member_keeps_the_tenant_and_its_data(api, org, world):
    add_extensions(world.globex, [("1001", "Grace")])
    response = api("reseller").delete(members_path(org) + "globex/")
    assert response.status_code == 204
    assert not OrganizationMember.objects.filter(tenant=world.globex).exists()
    globex = Tenant.objects.get(slug="globex")
    assert globex.status == "active" and schemas.schema_exists(globex.schema_name)
    from apps.telephony.models import Extension

    with tenant_context(globex):
        assert list(Extension.objects.values_list("name", flat=True)) == ["Grace"]
    event = OutboxEvent.objects.get(type="organization.member.removed")
    assert event.data["tenant"]["slug"] == "globex" and event.system
    assert api("reseller").get(members_path(org) + "globex/").status_code == 404
    # free to join an organization again
    assert api("reseller").post(members_path(org), {"tenant": "globex", "site_code": "22"}).status_code == 201


def test_member_routes_of_an_unknown_tenant_are_404(api, org):
    assert api("reseller").get(members_path(org) + "hooli-nope/").status_code == 404
    assert api("reseller").delete(members_path(org) + "initech/").status_code == 404


def test_organization_key_reads_members_but_cannot_change_them(org_api, org):
    assert org_api().get(members_path(org) + "acme/").json()["timezone"] == "America/New_York"
    response = org_api().patch(members_path(org) + "acme/", {"address": "x"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_deleting_a_tenant_drops_its_membership(api, org, world):
    assert api("reseller").delete("/api/tenants/globex/").status_code == 204
    assert [m["tenant"] for m in api("reseller").get(members_path(org)).json()] == ["acme"]
