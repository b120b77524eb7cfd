"""The tenants API: scope, CRUD, suspend/resume, events and audit."""
import pytest

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.tenants import schemas
from apps.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def codes(response):
    return response.json()["code"]


def test_reseller_key_lists_only_its_own_tenants(api, world):
    response = api("reseller").get("/api/tenants/")
    assert response.status_code == 200
    assert [t["slug"] for t in response.json()] == ["acme", "globex"]
    assert response["X-Total-Count"] == "2"
    assert 'rel="first"' in response["Link"]


def test_system_key_sees_every_tenant(api, world):
    response = api("system").get("/api/tenants/?ordering=slug")
    assert [t["slug"] for t in response.json()] == ["acme", "globex", "initech"]


def test_tenant_key_sees_only_its_tenant(api, world):
    assert [t["slug"] for t in api("acme").get("/api/tenants/").json()] == ["acme"]
    assert api("acme").get("/api/tenants/acme/").status_code == 200


def test_reseller_key_cannot_see_other_resellers_tenant(api, world):
    for method in ("get", "patch", "delete"):
        response = getattr(api("reseller"), method)("/api/tenants/initech/")
        assert response.status_code == 404
        assert codes(response) == "tenant_not_found"


def test_create_tenant_provisions_a_current_schema_and_emits_one_event(api, world):
    response = api("reseller").post("/api/tenants/", {"slug": "hooli", "name": "Hooli", "max_extensions": 20})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reseller"] == "one" and body["status"] == "active" and body["max_extensions"] == 20
    tenant = Tenant.objects.get(slug="hooli")
    assert schemas.schema_exists(tenant.schema_name)
    from apps.tenants.migrating import behind_schemas

    assert behind_schemas([tenant.schema_name]) == []
    events = OutboxEvent.objects.filter(type="tenant.created", tenant_id=tenant.pk)
    assert events.count() == 1
    assert events.get().data["slug"] == "hooli" and events.get().system is True
    entry = AuditEntry.objects.get(object_type="tenants.tenant", object_id=str(tenant.pk), action="create")
    assert entry.actor_label.startswith("key:tl_") and entry.request_id == response["X-Request-ID"]


def test_duplicate_and_reserved_slugs_are_refused(api, world):
    response = api("reseller").post("/api/tenants/", {"slug": "acme", "name": "Again"})
    assert response.status_code == 409 and codes(response) == "slug_taken"
    assert response.json()["errors"]["slug"]
    response = api("reseller").post("/api/tenants/", {"slug": "admin", "name": "Admin"})
    assert response.status_code == 400 and "slug" in response.json()["errors"]
    response = api("reseller").post("/api/tenants/", {"slug": "Bad Slug!", "name": "x"})
    assert response.status_code == 400 and codes(response) == "validation_error"
    assert "slug" in response.json()["errors"]


def test_reseller_cannot_create_tenant_for_another_reseller(api, world):
    response = api("reseller").post("/api/tenants/", {"slug": "sneaky", "name": "x", "reseller": "two"})
    assert response.status_code == 400
    assert "reseller" in response.json()["errors"]
    assert not Tenant.objects.filter(slug="sneaky").exists()


def test_tenant_key_cannot_create_or_delete_tenants(api, world):
    assert api("acme").post("/api/tenants/", {"slug": "x-corp", "name": "x"}).status_code == 403
    assert api("acme").delete("/api/tenants/acme/").status_code == 403


def test_update_records_before_and_after(api, world):
    response = api("reseller").patch("/api/tenants/acme/", {"max_extensions": 250})
    assert response.status_code == 200 and response.json()["max_extensions"] == 250
    entry = AuditEntry.objects.filter(object_type="tenants.tenant", action="update").latest("id")
    assert entry.before == {"max_extensions": 100} and entry.after == {"max_extensions": 250}
    assert OutboxEvent.objects.filter(type="tenant.updated", tenant_id=world.acme.pk).count() == 1


def test_suspended_tenants_own_keys_get_403_but_its_reseller_still_manages_it(api, world):
    response = api("reseller").post("/api/tenants/acme/suspend/", {"reason": "unpaid"})
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    for path in ("/api/tenants/", "/api/tenants/acme/", "/api/api-keys/"):
        response = api("acme").get(path)
        assert response.status_code == 403 and codes(response) == "tenant_suspended", path
    assert api("reseller").get("/api/tenants/acme/").status_code == 200
    assert api("reseller").post("/api/tenants/acme/suspend/").status_code == 409
    assert api("reseller").post("/api/tenants/acme/resume/").status_code == 200
    assert api("acme").get("/api/tenants/acme/").status_code == 200
    assert list(OutboxEvent.objects.filter(tenant_id=world.acme.pk).values_list("type", flat=True).order_by("id"))[-2:] \
        == ["tenant.suspended", "tenant.resumed"]


def test_delete_tenant_drops_schema_and_keys(api, world):
    schema = world.globex.schema_name
    response = api("reseller").delete("/api/tenants/globex/")
    assert response.status_code == 204
    assert not Tenant.objects.filter(slug="globex").exists()
    assert not schemas.schema_exists(schema)
    assert api("globex").get("/api/tenants/").status_code == 401
    event = OutboxEvent.objects.get(type="tenant.deleted")
    assert event.tenant_slug == "globex" and event.data["slug"] == "globex"


def test_read_only_key_cannot_write(api, world):
    response = api("reseller_ro").patch("/api/tenants/acme/", {"name": "x"})
    assert response.status_code == 403 and codes(response) == "read_only_credential"
    assert api("reseller_ro").get("/api/tenants/acme/").status_code == 200


def test_filters_search_and_ordering(api, world):
    assert [t["slug"] for t in api("system").get("/api/tenants/?reseller=two").json()] == ["initech"]
    assert [t["slug"] for t in api("system").get("/api/tenants/?search=glob").json()] == ["globex"]
    assert [t["slug"] for t in api("system").get("/api/tenants/?ordering=-slug").json()] == ["initech", "globex", "acme"]
    response = api("system").get("/api/tenants/?ordering=schema_name")
    assert response.status_code == 400 and codes(response) == "invalid_ordering"
    response = api("system").get("/api/tenants/?statu=active")
    assert response.status_code == 400 and codes(response) == "unknown_filter"
    response = api("system").get("/api/tenants/?status=bogus")
    assert response.status_code == 400 and codes(response) == "invalid_filter"


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=abc", "offset=-5", "offset=x", "limit=5000"])
def test_bad_pagination_is_a_clear_error(api, world, query):
    response = api("system").get(f"/api/tenants/?{query}")
    assert response.status_code == 400 and codes(response) == "invalid_pagination"


def test_pagination_headers(api, world):
    response = api("system").get("/api/tenants/?limit=1&offset=1&ordering=slug")
    assert [t["slug"] for t in response.json()] == ["globex"]
    assert response["X-Total-Count"] == "3"
    links = dict((rel.split('"')[1], url.strip().strip("<>")) for url, rel in
                 (part.split(";") for part in response["Link"].split(",")))
    assert set(links) == {"first", "prev", "next", "last"}
    assert "offset=2" in links["next"] and "offset=2" in links["last"] and "offset" not in links["prev"]
    assert "ordering=slug" in links["next"] and "limit=1" in links["next"]


def test_trailing_slash_is_optional(api, world):
    assert api("reseller").get("/api/tenants").status_code == 200
    assert api("reseller").get("/api/tenants/acme").status_code == 200
    assert api("reseller").post("/api/tenants/acme/suspend").status_code == 200
