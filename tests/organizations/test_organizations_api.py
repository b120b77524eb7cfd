"""/api/organization/: CRUD in the caller's scope, events and audit."""
import jsonschema
import pytest

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.events.registry import EVENT_TYPES
from apps.organizations.models import Organization, OrganizationMember
from apps.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["code"]


def test_reseller_creates_an_organization_in_its_own_scope_and_a_system_event_is_recorded(api, world):
    response = api("reseller").post("/api/organization/", {"name": "Acme Group", "slug": "acme-group"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reseller"] == "one" and body["member_count"] == 0 and body["slug"] == "acme-group"
    event = OutboxEvent.objects.get(type="organization.created")
    assert event.system is True and event.reseller_id == world.reseller.pk and event.tenant_id is None
    assert event.data["id"] == body["id"] and event.data["reseller"] == {"id": world.reseller.pk, "slug": "one"}
    jsonschema.validate(event.data, EVENT_TYPES["organization.created"].schema)
    entry = AuditEntry.objects.get(object_type="organizations.organization", action="create")
    assert entry.request_id == response["X-Request-ID"] and entry.reseller_id == world.reseller.pk


def test_system_key_must_name_the_reseller(api, world):
    response = api("system").post("/api/organization/", {"name": "X", "slug": "x-group"})
    assert response.status_code == 400 and "reseller" in response.json()["errors"]
    response = api("system").post("/api/organization/", {"name": "X", "slug": "x-group", "reseller": "two"})
    assert response.status_code == 201 and response.json()["reseller"] == "two"


def test_reseller_cannot_create_an_organization_for_another_reseller(api, world):
    response = api("reseller").post("/api/organization/", {"name": "X", "slug": "x-group", "reseller": "two"})
    assert response.status_code == 400 and response.json()["errors"]["reseller"][0]["code"] == "does_not_exist"
    assert not Organization.objects.filter(slug="x-group").exists()


def test_duplicate_slug_is_a_conflict_on_the_slug_field(api, org):
    response = api("reseller").post("/api/organization/", {"name": "Again", "slug": "acme-group"})
    assert response.status_code == 409 and code(response) == "duplicate"
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"]["slug"][0]["code"] == "duplicate"


def test_lists_are_limited_to_the_callers_scope(api, org, other_org):
    assert [o["slug"] for o in api("reseller").get("/api/organization/").json()] == ["acme-group"]
    assert [o["slug"] for o in api("other_reseller").get("/api/organization/").json()] == ["initech-holdings"]
    response = api("system").get("/api/organization/?ordering=slug")
    assert [o["slug"] for o in response.json()] == ["acme-group", "initech-holdings"]
    assert response["X-Total-Count"] == "2"
    assert [o["slug"] for o in api("system").get("/api/organization/?reseller=two").json()] == ["initech-holdings"]
    assert [o["slug"] for o in api("acme").get("/api/organization/").json()] == ["acme-group"]  # a member
    assert [o["slug"] for o in api("initech").get("/api/organization/").json()] == ["initech-holdings"]


def test_reseller_cannot_see_or_touch_another_resellers_organization(api, org, other_org):
    base = f"/api/organization/{other_org.pk}/"
    client = api("reseller")
    for method, path, body in [
        ("get", base, None), ("patch", base, {"name": "x"}), ("put", base, {"name": "x", "slug": "x-x"}),
        ("delete", base, None), ("get", base + "sites/", None), ("get", base + "directory/?q=a", None),
        ("get", base + "members/", None), ("post", base + "members/", {"tenant": "acme", "site_code": "9"}),
        ("get", base + "members/initech/", None), ("delete", base + "members/initech/", None),
    ]:
        response = getattr(client, method)(path, body) if body is not None else getattr(client, method)(path)
        assert response.status_code == 404, (method, path, response.content)
        assert code(response) == "not_found"
    other_org.refresh_from_db()
    assert other_org.name == "Initech Holdings" and other_org.members.count() == 1


def test_organization_key_sees_its_organization_and_members_only(api, org, other_org, org_api):
    client = org_api()
    assert [o["slug"] for o in client.get("/api/organization/").json()] == ["acme-group"]
    assert client.get(f"/api/organization/{org.organization.pk}/").json()["member_count"] == 2
    assert client.get(f"/api/organization/{other_org.pk}/").status_code == 404
    assert [m["tenant"] for m in client.get(f"/api/organization/{org.organization.pk}/members/").json()] \
        == ["acme", "globex"]
    # the same scope rules everywhere: the tenants API shows the members, nothing else
    assert [t["slug"] for t in client.get("/api/tenants/?ordering=slug").json()] == ["acme", "globex"]
    assert client.get("/api/tenants/initech/").status_code == 404


def test_organization_and_tenant_keys_cannot_change_organizations(api, org, org_api):
    path = f"/api/organization/{org.organization.pk}/"
    for client in (org_api(), api("acme")):
        response = client.patch(path, {"name": "Mine now"})
        assert response.status_code in (403, 404)
    assert org_api().patch(path, {"name": "x"}).json()["code"] == "permission_denied"
    assert org_api().post(path + "members/", {"tenant": "acme", "site_code": "5"}).status_code == 403
    assert org_api().delete(path + "members/acme/").status_code == 403
    assert org_api().post("/api/organization/", {"name": "x", "slug": "x-x"}).status_code == 403
    assert api("acme").get(path).status_code == 200  # a member's key reads its organization
    response = org_api(read_only=True).patch(path, {"name": "x"})
    assert response.status_code == 403 and code(response) == "read_only_credential"
    assert api("reseller_ro").delete(path).json()["code"] == "read_only_credential"
    assert Organization.objects.get(pk=org.organization.pk).name == "Acme Group"


def test_update_records_before_after_and_an_updated_event(api, org):
    response = api("reseller").patch(f"/api/organization/{org.organization.pk}/", {"name": "Acme Worldwide"})
    assert response.status_code == 200 and response.json()["name"] == "Acme Worldwide"
    entry = AuditEntry.objects.filter(object_type="organizations.organization", action="update").latest("id")
    assert entry.before == {"name": "Acme Group"} and entry.after == {"name": "Acme Worldwide"}
    event = OutboxEvent.objects.get(type="organization.updated")
    assert event.data["name"] == "Acme Worldwide" and event.data["member_count"] == 2 and event.system


def test_an_organization_with_members_cannot_move_to_another_reseller(api, org):
    response = api("system").patch(f"/api/organization/{org.organization.pk}/", {"reseller": "two"})
    assert response.status_code == 409 and code(response) == "in_use"
    assert "reseller" in response.json()["errors"]


def test_reseller_cannot_move_its_organization_to_another_reseller(api, world):
    created = api("reseller").post("/api/organization/", {"name": "E", "slug": "empty-group"}).json()
    response = api("reseller").patch(f"/api/organization/{created['id']}/", {"reseller": "two"})
    assert response.status_code == 400 and "reseller" in response.json()["errors"]


def test_delete_releases_members_and_keeps_their_tenants(api, org):
    schema = Tenant.objects.get(slug="acme").schema_name
    response = api("reseller").delete(f"/api/organization/{org.organization.pk}/")
    assert response.status_code == 204
    assert not Organization.objects.filter(pk=org.organization.pk).exists()
    assert not OrganizationMember.objects.exists()
    assert Tenant.objects.filter(slug__in=["acme", "globex"]).count() == 2
    from apps.tenants import schemas

    assert schemas.schema_exists(schema)
    types = list(OutboxEvent.objects.filter(type__startswith="organization.").order_by("id")
                 .values_list("type", flat=True))
    assert types[-3:] == ["organization.member.removed", "organization.member.removed", "organization.deleted"]
    # its organization key is gone with it
    assert api("system").get("/api/organization/").json() == []


def test_list_makes_the_same_number_of_queries_for_one_and_many_organizations(api, world, system_actor,
                                                                               django_assert_max_num_queries):
    from apps.organizations import services

    client = api("system")
    services.organization_create(actor=system_actor, name="G0", slug="g-0", reseller=world.reseller)
    with django_assert_max_num_queries(6) as one:
        client.get("/api/organization/")
    for i in range(1, 15):
        services.organization_create(actor=system_actor, name=f"G{i}", slug=f"g-{i}", reseller=world.reseller)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/organization/").json()) == 15


def test_unknown_filter_and_ordering_are_refused(api, org):
    assert code(api("system").get("/api/organization/?resellr=one")) == "unknown_filter"
    assert code(api("system").get("/api/organization/?ordering=reseller__name")) == "invalid_ordering"


def test_organization_events_reach_system_webhooks_of_their_reseller_only(api, world, system_actor):
    from apps.webhooks.models import Delivery, Subscription
    from apps.webhooks.relay import relay_pending
    from apps.webhooks.services import subscription_create

    ours = subscription_create(actor=system_actor, kind=Subscription.Kind.SYSTEM, url="https://h.example.com/",
                               event_types=["organization.*"], reseller=world.reseller)
    theirs = subscription_create(actor=system_actor, kind=Subscription.Kind.SYSTEM, url="https://h.example.com/",
                                 event_types=["organization.*"], reseller=world.other_reseller)
    created = api("reseller").post("/api/organization/", {"name": "Acme Group", "slug": "acme-group"}).json()
    members = f"/api/organization/{created['id']}/members/"
    assert api("reseller").post(members, {"tenant": "acme", "site_code": "1"}).status_code == 201
    assert api("reseller").delete(members + "acme/").status_code == 204
    relay_pending()
    assert list(Delivery.objects.filter(subscription=ours).order_by("id").values_list("event_type", flat=True)) == [
        "organization.created", "organization.member.added", "organization.member.removed"]
    assert not Delivery.objects.filter(subscription=theirs).exists()


@pytest.mark.parametrize("path", ["/api/organization/abc/", "/api/organization/99999999/",
                                  "/api/organization/99999999/sites/", "/api/organization/99999999/directory/?q=a",
                                  "/api/organization/abc/members/acme/"])
def test_unknown_organizations_are_a_problem_404(api, world, path):
    response = api("system").get(path)
    assert response.status_code == 404 and code(response) == "not_found"
    assert response["Content-Type"].startswith("application/problem+json")


def test_bad_bodies_are_400s_not_500s(api, org):
    path = f"/api/organization/{org.organization.pk}/"
    assert api("reseller").patch(path, {"name": ""}).status_code == 400
    assert api("reseller").patch(path, {"slug": "Not A Slug"}).status_code == 400
    assert api("reseller").patch(path, {"name": "x" * 201}).status_code == 400
    assert api("reseller").post(path + "members/", ["not", "an", "object"]).status_code == 400
    assert api("reseller").post(path + "members/", {"tenant": ["acme"], "site_code": 5}).status_code == 400
    response = api("reseller").client.post(path + "members/", "{broken", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
