"""The platform admin as a reseller uses it: scope, actions, keys shown once, audit."""
import re

import pytest
from django.test import Client

from apps.accounts.models import ApiKey
from apps.audit.models import AuditEntry
from apps.tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def reseller_client(world):
    client = Client()
    client.force_login(world.users["reseller"])
    return client


def test_dashboard_lists_the_resellers_tenants_only(reseller_client):
    html = reseller_client.get("/admin/").content.decode()
    assert "Acme" in html and "Globex" in html and "Initech" not in html
    assert "2 (2 active, 0 suspended)" in html


def test_tenant_changelist_is_scoped_and_searchable(reseller_client, world):
    html = reseller_client.get("/admin/tenants/tenant/").content.decode()
    assert "acme" in html and "globex" in html and "initech" not in html
    html = reseller_client.get("/admin/tenants/tenant/?q=glob").content.decode()
    assert "globex" in html and ">acme<" not in html
    response = reseller_client.get(f"/admin/tenants/tenant/{world.initech.pk}/change/")
    assert response.status_code in (302, 404)


def test_reseller_creates_a_tenant_in_the_admin(reseller_client, world):
    response = reseller_client.post("/admin/tenants/tenant/add/", {
        "name": "Hooli", "slug": "hooli", "reseller": world.reseller.pk, "max_extensions": 10, "max_dids": 5,
        "max_queues": 2, "max_trunks": 1, "extension_length": 3, "default_region": "GB", "timezone": "Europe/London",
        "notes": "", "cdr_retention_days": 400, "call_retention_days": 90})
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(slug="hooli")
    assert tenant.reseller == world.reseller and tenant.extension_length == 3
    assert (tenant.cdr_retention_days, tenant.call_retention_days) == (400, 90)
    entry = AuditEntry.objects.get(object_type="tenants.tenant", action="create", object_id=str(tenant.pk))
    assert entry.source == "admin"


def test_admin_refuses_a_reserved_slug_on_the_form(reseller_client, world):
    response = reseller_client.post("/admin/tenants/tenant/add/", {
        "name": "Admin", "slug": "admin", "reseller": world.reseller.pk, "max_extensions": 10, "max_dids": 5,
        "max_queues": 2, "max_trunks": 1, "extension_length": 4, "default_region": "US", "timezone": "UTC"})
    assert response.status_code == 200 and "This slug is reserved." in response.content.decode()


def test_reseller_cannot_pick_another_resellers_reseller(reseller_client, world):
    response = reseller_client.post("/admin/tenants/tenant/add/", {
        "name": "Sneaky", "slug": "sneaky", "reseller": world.other_reseller.pk, "max_extensions": 10, "max_dids": 5,
        "max_queues": 2, "max_trunks": 1, "extension_length": 4, "default_region": "US", "timezone": "UTC"})
    assert response.status_code == 200
    assert not Tenant.objects.filter(slug="sneaky").exists()


def test_new_api_key_is_shown_once(reseller_client, world):
    response = reseller_client.post("/admin/accounts/apikey/add/", {
        "name": "from admin", "scope": "tenant", "tenant": world.acme.pk}, follow=True)
    html = response.content.decode()
    match = re.search(r"<code>(tl_[A-Za-z0-9]{8}_[A-Za-z0-9]{32})</code>", html)
    assert match, html[:3000]
    key = ApiKey.objects.get(name="from admin")
    from apps.accounts import keys

    assert keys.matches(match.group(1), key.key_hash)
    again = reseller_client.get("/admin/accounts/apikey/").content.decode()
    assert match.group(1) not in again and key.display in again


def test_key_list_is_scoped_and_rotation_shows_the_new_key_once(reseller_client, world):
    html = reseller_client.get("/admin/accounts/apikey/").content.decode()
    initech_key = ApiKey.objects.get(tenant=world.initech)
    assert initech_key.display not in html
    globex_key = ApiKey.objects.get(tenant=world.globex)
    response = reseller_client.post("/admin/accounts/apikey/", {
        "action": "rotate_keys", "_selected_action": [globex_key.pk]}, follow=True)
    assert re.search(r"<code>tl_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}</code>", response.content.decode())
    assert ApiKey.objects.filter(rotated_from=globex_key).exists()


def test_read_only_user_can_view_but_not_change(world):
    from apps.accounts.models import User

    user = User.objects.create_user("viewer", password="pw-view-1", role=User.Role.READ_ONLY,
                                    reseller=world.reseller, is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/tenants/tenant/").status_code == 200
    assert client.get("/admin/tenants/tenant/add/").status_code == 403
    client.post("/admin/tenants/tenant/", {"action": "suspend_tenants", "_selected_action": [world.acme.pk]})
    world.acme.refresh_from_db()
    assert world.acme.status == "active"


def test_servers_are_for_system_admins_only(reseller_client, world):
    assert reseller_client.get("/admin/pbx/server/").status_code == 403
    admin = Client()
    admin.force_login(world.users["admin"])
    assert admin.get("/admin/pbx/server/").status_code == 200


def test_tenant_admin_is_reachable_only_within_scope(world):
    client = Client()
    client.force_login(world.users["reseller"])
    assert client.get("/t/acme/admin/").status_code == 200
    assert client.get("/t/initech/admin/").status_code == 404
    assert client.get("/t/nope/admin/").status_code == 404
    tenant_admin = Client()
    tenant_admin.force_login(world.users["acme_admin"])
    assert tenant_admin.get("/t/acme/admin/").status_code == 200
    assert tenant_admin.get("/t/globex/admin/").status_code == 404
