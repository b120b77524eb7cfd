"""CRUD of every CRM object type through the API: services, events, tenant isolation, query counts."""
import pytest
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation

pytestmark = pytest.mark.django_db


def crm_events(world, tenant=None):
    return list(OutboxEvent.objects.filter(tenant_id=(tenant or world.acme).pk, type__startswith="crm.")
                .order_by("id").values_list("type", flat=True))


# (resource, create body, update body, event noun)
RESOURCES = [
    ("crm-contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                      "phone": "(415) 555-0100"}, {"title": "Countess"}, "contact"),
    ("crm-accounts", {"name": "Analytical Engines", "phone": "+44 20 7946 0000"}, {"industry": "Computing"},
     "account"),
    ("crm-leads", {"first_name": "Grace", "company": "Navy", "email": "grace@example.com"}, {"status": "qualified"},
     "lead"),
    ("crm-lists", {"name": "Newsletter"}, {"description": "Monthly"}, "list"),
    ("crm-custom-fields", {"object_type": "contact", "name": "tier", "label": "Tier", "field_type": "choice",
                           "choices": ["gold", "silver"]}, {"label": "Customer tier"}, "custom_field"),
    ("crm-tasks", {"title": "Send proposal", "due_date": "2026-12-01", "priority": "high"}, {"status": "done"},
     "task"),
    ("crm-campaigns", {"name": "Spring", "starts_on": "2026-03-01", "ends_on": "2026-04-01"}, {"status": "active"},
     "campaign"),
    ("crm-deals", {"name": "50 seats", "amount": "12500.00", "currency": "EUR"}, {"amount": "13000.00"}, "deal"),
    ("crm-deal-stages", {"name": "Discovery", "position": 0, "probability": 5}, {"probability": 10}, "deal_stage"),
    ("crm-import-maps", {"name": "Salesforce", "columns": {"Email": "email", "Mobile": {"field": "mobile"}}},
     {"on_match": "skip"}, "import_map"),
]


@pytest.mark.parametrize("resource,create,update,noun", RESOURCES, ids=[r[0] for r in RESOURCES])
def test_crud_emits_lifecycle_events_and_is_isolated(api, world, resource, create, update, noun):
    base = f"/api/{resource}/acme/"
    created = api("acme").post(base, create)
    assert created.status_code == 201, created.content
    obj_id = created.json()["id"]
    assert api("acme").get(f"{base}{obj_id}/").status_code == 200
    listed = api("acme").get(base)
    assert listed.status_code == 200 and obj_id in [o["id"] for o in listed.json()]
    patched = api("acme").patch(f"{base}{obj_id}/", update)
    assert patched.status_code == 200, patched.content
    for key, value in update.items():
        assert patched.json()[key] == value
    check_tenant_isolation(api, resource=resource, tenant=world.acme, obj_id=obj_id, update=update, create=create)
    assert api("acme").delete(f"{base}{obj_id}/").status_code == 204
    assert api("acme").get(f"{base}{obj_id}/").status_code == 404
    events = crm_events(world)
    for verb in ("created", "updated", "deleted"):
        assert f"crm.{noun}.{verb}" in events


def test_activity_crud_needs_a_linked_object(api, world):
    contact = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Ada"}).json()
    bad = api("acme").post("/api/crm-activities/acme/", {"kind": "call", "subject": "Intro",
                                                         "occurred_at": "2026-01-05T10:00:00Z"})
    assert bad.status_code == 400 and "contact" in bad.json()["errors"]
    created = api("acme").post("/api/crm-activities/acme/", {"kind": "call", "subject": "Intro",
                                                             "occurred_at": "2026-01-05T10:00:00Z",
                                                             "contact": contact["id"], "duration_seconds": 300})
    assert created.status_code == 201, created.content
    activity_id = created.json()["id"]
    check_tenant_isolation(api, resource="crm-activities", tenant=world.acme, obj_id=activity_id,
                           update={"subject": "x"}, create={"kind": "note", "subject": "x"})
    assert api("acme").patch(f"/api/crm-activities/acme/{activity_id}/", {"kind": "meeting"}).status_code == 200
    assert api("acme").delete(f"/api/crm-activities/acme/{activity_id}/").status_code == 204
    assert {"crm.activity.created", "crm.activity.updated", "crm.activity.deleted"} <= set(crm_events(world))


def test_another_tenants_object_cannot_be_linked(api, world):
    globex_contact = api("globex").post("/api/crm-contacts/globex/", {"first_name": "Other"}).json()["id"]
    own = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Own"}).json()["id"]
    # Same id space per schema: a globex id that does not exist in acme is refused.
    missing = max(globex_contact, own) + 100
    response = api("acme").post("/api/crm-tasks/acme/", {"title": "x", "contact": missing})
    assert response.status_code == 400 and "contact" in response.json()["errors"]


def test_contact_phones_are_stored_in_e164_and_bad_ones_refused(api, world):
    response = api("acme").post("/api/crm-contacts/acme/", {"first_name": "A", "phone": "415.555.0100",
                                                             "mobile": "+44 7911 123456", "email": "A@Example.COM"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+14155550100" and body["mobile"] == "+447911123456" and body["email"] == "a@example.com"
    bad = api("acme").post("/api/crm-contacts/acme/", {"first_name": "B", "phone": "12"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_phone" and "phone" in bad.json()["errors"]
    bad = api("acme").post("/api/crm-contacts/acme/", {"first_name": "B", "email": "not-an-email"})
    assert bad.status_code == 400 and "email" in bad.json()["errors"]


def test_duplicate_email_or_external_id_is_a_409(api, world):
    api("acme").post("/api/crm-contacts/acme/", {"email": "ada@example.com", "external_id": "X1"})
    response = api("acme").post("/api/crm-contacts/acme/", {"email": "ADA@example.com"})
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert "email" in response.json()["errors"]
    response = api("acme").post("/api/crm-contacts/acme/", {"email": "b@example.com", "external_id": "X1"})
    assert response.status_code == 409 and "external_id" in response.json()["errors"]
    # The same e-mail in another tenant is fine: each tenant has its own contacts.
    assert api("globex").post("/api/crm-contacts/globex/", {"email": "ada@example.com"}).status_code == 201


def test_contact_list_is_filtered_searched_ordered_with_constant_queries(api, world, django_assert_max_num_queries):
    with tenant_context(world.acme):
        account = services.account_create(actor=None, tenant=world.acme, name="Acme Ltd")
        for i in range(30):
            services.contact_create(actor=None, tenant=world.acme, first_name=f"N{i:02d}", last_name="Smith",
                                    email=f"n{i}@example.com", account=account if i % 2 else None,
                                    tags=["vip"] if i < 5 else [])
    client = api("acme")
    with django_assert_max_num_queries(12):
        response = client.get("/api/crm-contacts/acme/?limit=100")
    assert response.status_code == 200 and response["X-Total-Count"] == "30"
    with django_assert_max_num_queries(12):
        client.get("/api/crm-contacts/acme/?limit=5")
    assert client.get("/api/crm-contacts/acme/?tag=vip")["X-Total-Count"] == "5"
    assert client.get("/api/crm-contacts/acme/?search=n07")["X-Total-Count"] == "1"
    assert client.get(f"/api/crm-contacts/acme/?account={account.pk}")["X-Total-Count"] == "15"
    assert client.get("/api/crm-contacts/acme/?ordering=-first_name&limit=1").json()[0]["first_name"] == "N29"
    assert client.get("/api/crm-contacts/acme/?bogus=1").json()["code"] == "unknown_filter"
    assert client.get("/api/crm-contacts/acme/?ordering=secret").json()["code"] == "invalid_ordering"


def test_deals_get_a_default_pipeline_and_close_when_won(api, world):
    stages = api("acme").get("/api/crm-deal-stages/acme/").json()
    assert [s["name"] for s in stages] == ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]
    deal = api("acme").post("/api/crm-deals/acme/", {"name": "Big", "amount": "100.00", "currency": "USD"}).json()
    assert deal["stage_name"] == "Qualification" and deal["status"] == "open" and deal["closed_at"] is None
    won = next(s["id"] for s in stages if s["name"] == "Won")
    deal = api("acme").patch(f"/api/crm-deals/acme/{deal['id']}/", {"stage": won}).json()
    assert deal["status"] == "won" and deal["closed_at"]
    bad = api("acme").post("/api/crm-deals/acme/", {"name": "x", "currency": "euro"})
    assert bad.status_code == 400 and "currency" in bad.json()["errors"]
    in_use = api("acme").delete(f"/api/crm-deal-stages/acme/{won}/")
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"


def test_lead_conversion_creates_contact_account_and_deal_once(api, world):
    lead = api("acme").post("/api/crm-leads/acme/", {"first_name": "Grace", "last_name": "Hopper", "company": "Navy",
                                                      "email": "grace@example.com", "phone": "202-555-0143",
                                                      "status": "qualified"}).json()
    response = api("acme").post(f"/api/crm-leads/acme/{lead['id']}/convert/",
                                {"create_deal": True, "amount": "5000", "currency": "USD"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["lead"]["status"] == "converted" and body["contact"]["email"] == "grace@example.com"
    assert body["account"]["name"] == "Navy" and body["deal"]["amount"] == "5000.00"
    assert body["contact"]["account"] == body["account"]["id"] and body["deal"]["contact"] == body["contact"]["id"]
    again = api("acme").post(f"/api/crm-leads/acme/{lead['id']}/convert/", {})
    assert again.status_code == 409 and again.json()["code"] == "lead_already_converted"
    events = crm_events(world)
    assert "crm.lead.converted" in events and "crm.contact.created" in events and "crm.deal.created" in events
    assert api("acme").patch(f"/api/crm-leads/acme/{lead['id']}/", {"status": "converted"}).status_code == 400


def test_lists_add_and_remove_members_in_bulk(api, world):
    ids = [api("acme").post("/api/crm-contacts/acme/", {"first_name": f"C{i}"}).json()["id"] for i in range(5)]
    lst = api("acme").post("/api/crm-lists/acme/", {"name": "VIP"}).json()
    response = api("acme").post(f"/api/crm-lists/acme/{lst['id']}/members/", {"contacts": ids[:4]})
    assert response.json() == {"changed": 4, "member_count": 4}
    again = api("acme").post(f"/api/crm-lists/acme/{lst['id']}/members/", {"contacts": ids})
    assert again.json() == {"changed": 1, "member_count": 5}
    removed = api("acme").post(f"/api/crm-lists/acme/{lst['id']}/members/remove/", {"contacts": ids[:2]})
    assert removed.json() == {"changed": 2, "member_count": 3}
    members = api("acme").get(f"/api/crm-lists/acme/{lst['id']}/members/")
    assert members["X-Total-Count"] == "3"
    assert api("acme").get(f"/api/crm-lists/acme/{lst['id']}/").json()["member_count"] == 3
    assert api("acme").get(f"/api/crm-contacts/acme/?list={lst['id']}")["X-Total-Count"] == "3"
    bad = api("acme").post(f"/api/crm-lists/acme/{lst['id']}/members/", {"contacts": [999999]})
    assert bad.status_code == 400 and "contacts" in bad.json()["errors"]
    assert api("globex").post(f"/api/crm-lists/acme/{lst['id']}/members/", {"contacts": ids}).status_code == 404
    assert {"crm.list.members_added", "crm.list.members_removed"} <= set(crm_events(world))


def test_campaign_members_from_lists_with_status(api, world):
    ids = [api("acme").post("/api/crm-contacts/acme/", {"first_name": f"C{i}"}).json()["id"] for i in range(4)]
    lst = api("acme").post("/api/crm-lists/acme/", {"name": "Spring list"}).json()
    api("acme").post(f"/api/crm-lists/acme/{lst['id']}/members/", {"contacts": ids[:3]})
    campaign = api("acme").post("/api/crm-campaigns/acme/", {"name": "Spring", "lists": [lst["id"]]}).json()
    assert campaign["lists"] == [lst["id"]]
    added = api("acme").post(f"/api/crm-campaigns/acme/{campaign['id']}/members/",
                             {"lists": [lst["id"]], "contacts": [ids[3]]})
    assert added.json() == {"changed": 4, "member_count": 4}
    status = api("acme").post(f"/api/crm-campaigns/acme/{campaign['id']}/members/status/",
                              {"contacts": ids[:2], "status": "responded"})
    assert status.json()["changed"] == 2
    members = api("acme").get(f"/api/crm-campaigns/acme/{campaign['id']}/members/").json()
    assert sorted(m["status"] for m in members) == ["pending", "pending", "responded", "responded"]
    removed = api("acme").post(f"/api/crm-campaigns/acme/{campaign['id']}/members/remove/", {"contacts": [ids[0]]})
    assert removed.json() == {"changed": 1, "member_count": 3}
    bad = api("acme").post("/api/crm-campaigns/acme/", {"name": "Backwards", "starts_on": "2026-05-01",
                                                         "ends_on": "2026-04-01"})
    assert bad.status_code == 400 and "ends_on" in bad.json()["errors"]


def test_import_jobs_are_isolated_and_read_only_keys_cannot_undo(api, world, upload):
    job = upload("acme", "Email\nada@example.com\n").json()
    check_tenant_isolation(api, resource="crm-imports", tenant=world.acme, obj_id=job["id"])
    response = api("acme_ro").post(f"/api/crm-imports/acme/{job['id']}/undo/")
    assert response.status_code == 403


def test_event_types_are_registered_with_schemas():
    from apps.events.registry import EVENT_TYPES

    nouns = ["contact", "account", "lead", "list", "custom_field", "activity", "task", "campaign", "deal",
             "deal_stage", "import_map"]
    for noun in nouns:
        for verb in ("created", "updated", "deleted"):
            event = EVENT_TYPES[f"crm.{noun}.{verb}"]
            assert event.schema["properties"]["id"] and event.example
    assert EVENT_TYPES["crm.import.completed"].example["created"] == 49850


@pytest.mark.parametrize("resource,body", [
    ("crm-custom-fields", {"object_type": "contact", "name": "tier", "label": "Tier"}),
    ("crm-lists", {"name": "VIP"}),
    ("crm-campaigns", {"name": "Spring"}),
    ("crm-deal-stages", {"name": "Discovery"}),
    ("crm-import-maps", {"name": "Legacy", "columns": {"E": "email"}}),
])
def test_duplicate_names_are_a_409_not_a_500(api, world, resource, body):
    assert api("acme").post(f"/api/{resource}/acme/", body).status_code == 201
    response = api("acme").post(f"/api/{resource}/acme/", body)
    assert response.status_code == 409 and response.json()["code"] == "duplicate", response.content


@pytest.mark.parametrize("path, body, field", [
    ("/api/crm-lists/acme/", {"name": "VIP", "description": -66.0}, "description"),
    ("/api/crm-contacts/acme/", {"first_name": 12, "last_name": "Lovelace"}, "first_name"),
    ("/api/crm-contacts/acme/", {"first_name": "Ada", "phone": 4155550100}, "phone"),
    ("/api/crm-contacts/acme/", {"first_name": "Ada", "tags": ["vip", 7]}, "tags"),
    ("/api/crm-import-maps/acme/", {"name": 3, "columns": {"Email": "email"}}, "name"),
])
def test_text_fields_take_strings_not_numbers(api, world, path, body, field):
    """The document says `type: string`; a number is a 400 naming the field, never stored as text."""
    response = api("acme").post(path, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert any(key == field or key.startswith(f"{field}.") or key.startswith(f"{field}[")
               for key in response.json()["errors"]), response.json()
