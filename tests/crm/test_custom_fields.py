"""Custom fields: definitions per object type, typed values stored with the object, cf_ filters,
required/unique, and their place in the OpenAPI document."""
import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Contact

pytestmark = pytest.mark.django_db

FIELDS = [
    {"name": "tier", "label": "Tier", "field_type": "choice", "choices": ["gold", "silver"]},
    {"name": "seats", "label": "Seats", "field_type": "number"},
    {"name": "since", "label": "Customer since", "field_type": "date"},
    {"name": "vip", "label": "VIP", "field_type": "boolean"},
    {"name": "topics", "label": "Topics", "field_type": "multi_choice", "choices": ["voip", "sms", "fax"]},
    {"name": "site", "label": "Site", "field_type": "url"},
    {"name": "billing", "label": "Billing e-mail", "field_type": "email"},
    {"name": "assistant", "label": "Assistant", "field_type": "phone"},
    {"name": "nickname", "label": "Nickname", "field_type": "text"},
]


@pytest.fixture
def fields(api, world):
    for spec in FIELDS:
        response = api("acme").post("/api/crm-custom-fields/acme/", {"object_type": "contact", **spec})
        assert response.status_code == 201, response.content


def test_values_of_every_type_are_validated_normalised_and_returned(api, fields):
    response = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Ada", "custom": {
        "tier": "Gold", "seats": "1,250", "since": "2020-02-29", "vip": "yes", "topics": ["sms", "voip"],
        "site": "example.com", "billing": "Billing@Example.com", "assistant": "(415) 555-0100", "nickname": "A"}})
    assert response.status_code == 201, response.content
    assert response.json()["custom"] == {
        "tier": "gold", "seats": 1250, "since": "2020-02-29", "vip": True, "topics": ["sms", "voip"],
        "site": "https://example.com", "billing": "billing@example.com", "assistant": "+14155550100",
        "nickname": "A"}


def test_bad_values_unknown_fields_and_updates(api, fields):
    bad = api("acme").post("/api/crm-contacts/acme/", {"first_name": "X", "custom": {
        "tier": "bronze", "seats": "many", "since": "2021-02-30", "vip": "perhaps", "site": "not a url",
        "billing": "nope", "assistant": "12"}})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_custom_field"
    assert set(bad.json()["errors"]) == {"custom.tier", "custom.seats", "custom.since", "custom.vip", "custom.site",
                                         "custom.billing", "custom.assistant"}
    unknown = api("acme").post("/api/crm-contacts/acme/", {"custom": {"shoe_size": 42}})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_custom_field"
    created = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Y", "custom": {"tier": "gold",
                                                                                          "seats": 3}}).json()
    patched = api("acme").patch(f"/api/crm-contacts/acme/{created['id']}/", {"custom": {"seats": None, "vip": False}})
    assert patched.json()["custom"] == {"tier": "gold", "vip": False}


def test_required_and_unique(api, world):
    api("acme").post("/api/crm-custom-fields/acme/", {"object_type": "account", "name": "vat", "label": "VAT id",
                                                      "field_type": "text", "required": True, "unique": True})
    missing = api("acme").post("/api/crm-accounts/acme/", {"name": "A"})
    assert missing.status_code == 400 and missing.json()["errors"]["custom.vat"][0]["code"] == "required"
    first = api("acme").post("/api/crm-accounts/acme/", {"name": "A", "custom": {"vat": "GB1"}})
    assert first.status_code == 201
    dupe = api("acme").post("/api/crm-accounts/acme/", {"name": "B", "custom": {"vat": "GB1"}})
    assert dupe.status_code == 400 and dupe.json()["errors"]["custom.vat"][0]["code"] == "duplicate"
    # A partial update that does not touch the required field is fine.
    assert api("acme").patch(f"/api/crm-accounts/acme/{first.json()['id']}/", {"industry": "x"}).status_code == 200
    # Another tenant has its own definitions.
    assert api("globex").post("/api/crm-accounts/globex/", {"name": "No VAT"}).status_code == 201


def test_cf_filters_for_each_type_and_unknown_cf_is_a_400(api, world, fields, django_assert_max_num_queries):
    client = api("acme")
    for i, (tier, seats, since, vip, topics) in enumerate([
            ("gold", 10, "2020-01-01", True, ["voip"]), ("silver", 20, "2021-06-01", False, ["sms", "fax"]),
            ("gold", 30, "2022-01-01", False, ["voip", "sms"])]):
        assert client.post("/api/crm-contacts/acme/", {"first_name": f"C{i}", "custom": {
            "tier": tier, "seats": seats, "since": since, "vip": vip, "topics": topics,
            "assistant": f"+1 415 555 010{i}"}}).status_code == 201

    def names(query):
        with django_assert_max_num_queries(10):
            response = client.get(f"/api/crm-contacts/acme/?{query}")
        assert response.status_code == 200, response.content
        return sorted(c["first_name"] for c in response.json())

    assert names("cf_tier=gold") == ["C0", "C2"]
    assert names("cf_tier=GOLD") == ["C0", "C2"]
    assert names("cf_seats=20") == ["C1"]
    assert names("cf_seats_min=15&cf_seats_max=30") == ["C1", "C2"]
    assert names("cf_since_after=2021-01-01") == ["C1", "C2"]
    assert names("cf_since_before=2021-01-01") == ["C0"]
    assert names("cf_vip=true") == ["C0"]
    assert names("cf_topics=sms") == ["C1", "C2"]
    assert names("cf_assistant=(415) 555-0101") == ["C1"]
    assert names("cf_tier=gold&cf_vip=false") == ["C2"]
    bad = client.get("/api/crm-contacts/acme/?cf_shoe=9")
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_filter" and "cf_shoe" in bad.json()["errors"]
    assert client.get("/api/crm-contacts/acme/?cf_seats_min=lots").json()["code"] == "invalid_filter"
    # The filters belong to acme's definitions: globex has none.
    assert api("globex").get("/api/crm-contacts/globex/?cf_tier=gold").json()["code"] == "unknown_filter"


def test_custom_field_gin_index_serves_cf_filters(world, fields, api):
    api("acme").post("/api/crm-contacts/acme/", {"first_name": "A", "custom": {"tier": "gold"}})
    with tenant_context(world.acme):
        sql = str(Contact.objects.filter(custom__contains={"tier": "gold"}).query)
    assert "@>" in sql  # containment: what the jsonb_path_ops GIN index answers


def test_deleting_a_definition_removes_its_values_and_type_changes_are_refused(api, world, fields):
    contact = api("acme").post("/api/crm-contacts/acme/", {"first_name": "A", "custom": {"tier": "gold",
                                                                                         "seats": 2}}).json()
    defs = {d["name"]: d["id"] for d in api("acme").get("/api/crm-custom-fields/acme/?object_type=contact").json()}
    change = api("acme").patch(f"/api/crm-custom-fields/acme/{defs['seats']}/", {"field_type": "text"})
    assert change.status_code == 409
    assert api("acme").delete(f"/api/crm-custom-fields/acme/{defs['tier']}/").status_code == 204
    assert api("acme").get(f"/api/crm-contacts/acme/{contact['id']}/").json()["custom"] == {"seats": 2}
    bad = api("acme").post("/api/crm-custom-fields/acme/", {"object_type": "contact", "name": "Bad Name",
                                                            "label": "x"})
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    bad = api("acme").post("/api/crm-custom-fields/acme/", {"object_type": "contact", "name": "c", "label": "C",
                                                            "field_type": "choice"})
    assert bad.status_code == 400 and "choices" in bad.json()["errors"]


def test_openapi_document_describes_custom_fields_and_crm_paths(api, world):
    response = api("acme").get("/api/schema/?format=json")
    assert response.status_code == 200
    import json

    document = json.loads(response.content)
    paths = document["paths"]
    for resource in ("crm-contacts", "crm-accounts", "crm-leads", "crm-lists", "crm-custom-fields",
                     "crm-activities", "crm-tasks", "crm-campaigns", "crm-deals", "crm-import-maps", "crm-imports"):
        assert f"/api/{resource}/{{tenant}}/" in paths, resource
    assert "/api/crm-contacts/{tenant}/import/" in paths and "/api/crm-contacts/{tenant}/lookup/" in paths
    params = paths["/api/crm-contacts/{tenant}/"]["get"]["parameters"]
    cf = next(p for p in params if p["name"] == "cf")
    assert cf["style"] == "form" and cf["explode"] is True and "cf_<name>" in cf["description"]
    assert "CustomFieldValue" in document["components"]["schemas"]
    assert "custom" in document["components"]["schemas"]["Contact"]["properties"]
    codes = document["components"]["schemas"]["ErrorCode"]["enum"]
    assert {"invalid_phone", "invalid_custom_field", "import_file_invalid", "payload_too_large"} <= set(codes)
