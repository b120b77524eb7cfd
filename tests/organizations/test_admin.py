"""The platform admin: organizations with member sites inline, in the user's scope, through the services."""
import pytest
from django.test import Client

from apps.events.models import OutboxEvent
from apps.organizations.models import Organization, OrganizationMember

pytestmark = pytest.mark.django_db


def login(username, password):
    client = Client()
    assert client.login(username=username, password=password)
    return client


def inline(prefix="members", rows=(), initial=0):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def test_reseller_sees_only_its_organizations(org, other_org):
    client = login("reseller", "pw-reseller-1")
    page = client.get("/admin/organizations/organization/").content.decode()
    assert "Acme Group" in page and "Initech Holdings" not in page
    assert "21 acme" in page  # the sites column
    assert client.get(f"/admin/organizations/organization/{other_org.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/organizations/organization/{org.organization.pk}/change/").status_code == 200


def test_reseller_adds_an_organization_with_a_member_inline(world):
    client = login("reseller", "pw-reseller-1")
    response = client.post("/admin/organizations/organization/add/", {
        "name": "Globex Group", "slug": "globex-group", "reseller": world.reseller.pk, "description": "",
        **inline(rows=[{"tenant": world.globex.pk, "site_code": "7", "address": "", "timezone": "Europe/Berlin"}]),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    organization = Organization.objects.get(slug="globex-group")
    assert organization.reseller == world.reseller
    member = OrganizationMember.objects.get(organization=organization)
    assert (member.tenant, member.site_code, member.timezone) == (world.globex, "7", "Europe/Berlin")
    assert list(OutboxEvent.objects.filter(type__startswith="organization.").values_list("type", flat=True)
                .order_by("id")) == ["organization.created", "organization.member.added"]


def test_admin_shows_the_services_rules_on_the_member_row(org, world, system_actor):
    from apps.tenants.services import tenant_update

    tenant_update(actor=system_actor, tenant=world.globex, extension_length=3)
    client = login("reseller", "pw-reseller-1")
    member_ids = {m.tenant_id: m.pk for m in org.organization.members.all()}

    def post(globex_code):
        rows = [
            {"id": member_ids[world.acme.pk], "organization": org.organization.pk, "tenant": world.acme.pk,
             "site_code": "21", "address": "1 Main St", "timezone": "America/New_York"},
            {"id": member_ids[world.globex.pk], "organization": org.organization.pk, "tenant": world.globex.pk,
             "site_code": globex_code, "address": "", "timezone": ""},
        ]
        return client.post(f"/admin/organizations/organization/{org.organization.pk}/change/", {
            "name": "Acme Group", "slug": "acme-group", "description": "", **inline(rows=rows, initial=2)})

    response = post("212")  # 212 + 3 digits and 21 + 4 digits: the same six-digit numbers
    assert response.status_code == 200  # the form again, with the error on the row
    assert "one dialed number could reach both" in response.content.decode()
    response = post("21")
    assert response.status_code == 200 and "duplicate" in response.content.decode()
    assert OrganizationMember.objects.get(tenant=world.globex).site_code == "22"
    assert post("23").status_code == 302
    assert OrganizationMember.objects.get(tenant=world.globex).site_code == "23"
    assert OutboxEvent.objects.filter(type="organization.member.updated").count() == 1


def test_admin_removes_a_member_and_keeps_the_tenant(org, world):
    client = login("reseller", "pw-reseller-1")
    member_ids = {m.tenant_id: m.pk for m in org.organization.members.all()}
    rows = [
        {"id": member_ids[world.acme.pk], "organization": org.organization.pk, "tenant": world.acme.pk,
         "site_code": "21", "address": "1 Main St", "timezone": "America/New_York"},
        {"id": member_ids[world.globex.pk], "organization": org.organization.pk, "tenant": world.globex.pk,
         "site_code": "22", "address": "", "timezone": "", "DELETE": "on"},
    ]
    response = client.post(f"/admin/organizations/organization/{org.organization.pk}/change/", {
        "name": "Acme Group", "slug": "acme-group", "description": "", **inline(rows=rows, initial=2)})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(org.organization.members.values_list("tenant__slug", flat=True)) == ["acme"]
    world.globex.refresh_from_db()
    assert OutboxEvent.objects.filter(type="organization.member.removed", tenant_id=world.globex.pk).count() == 1


def test_reseller_cannot_put_another_resellers_tenant_in_its_organization(org, world):
    client = login("reseller", "pw-reseller-1")
    response = client.post("/admin/organizations/organization/add/", {
        "name": "Sneaky", "slug": "sneaky", "reseller": world.reseller.pk, "description": "",
        **inline(rows=[{"tenant": world.initech.pk, "site_code": "9", "address": "", "timezone": ""}]),
    })
    assert response.status_code == 200 and not Organization.objects.filter(slug="sneaky").exists()


def test_admin_delete_releases_members(org, world):
    client = login("admin", "pw-admin-1")
    response = client.post(f"/admin/organizations/organization/{org.organization.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Organization.objects.exists() and not OrganizationMember.objects.exists()
    assert OutboxEvent.objects.filter(type="organization.deleted").count() == 1


@pytest.mark.parametrize("user,password", [("admin", "pw-admin-1"), ("reseller", "pw-reseller-1")])
def test_admin_pages_render_for_system_and_reseller_users(org, user, password):
    client = login(user, password)
    for path in ("/admin/organizations/organization/", "/admin/organizations/organization/add/",
                 f"/admin/organizations/organization/{org.organization.pk}/change/",
                 f"/admin/organizations/organization/{org.organization.pk}/delete/",
                 "/admin/organizations/organization/?q=globex"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert "globex" in client.get(f"/admin/organizations/organization/{org.organization.pk}/change/").content.decode()


def test_tenant_admins_and_read_only_users_cannot_change_organizations(org, world):
    from apps.accounts.models import User

    User.objects.create_user("viewer", "v@example.com", "pw-viewer-1", role=User.Role.READ_ONLY,
                             reseller=world.reseller, is_staff=True)
    viewer = login("viewer", "pw-viewer-1")
    assert viewer.get(f"/admin/organizations/organization/{org.organization.pk}/change/").status_code == 200
    response = viewer.post(f"/admin/organizations/organization/{org.organization.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and Organization.objects.filter(pk=org.organization.pk).exists()
    tenant_admin = login("acme-admin", "pw-acme-1")
    assert "Acme Group" not in tenant_admin.get("/admin/organizations/organization/").content.decode()
