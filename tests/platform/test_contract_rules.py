"""What the OpenAPI contract test found, each as the rule the API keeps (docs/api.md)."""
import pytest

pytestmark = pytest.mark.django_db


def codes(response, field):
    return [e["code"] for e in response.json()["errors"][field]]


@pytest.mark.parametrize("value", ["null", "None", "", "1"])
def test_a_boolean_filter_is_true_or_false(api, world, value):
    response = api("acme").get(f"/api/outbound-routes/acme/?enabled={value}")
    assert response.status_code == 400 and codes(response, "enabled") == ["invalid_filter"]
    assert api("acme").get("/api/outbound-routes/acme/?enabled=false").status_code == 200


def test_an_empty_date_time_filter_is_refused_not_ignored(api, world):
    response = api("system").get("/api/tenants/?created_before=")
    assert response.status_code == 400 and codes(response, "created_before") == ["invalid_filter"]


def test_an_empty_text_filter_filters_nothing(api, world):
    assert api("acme").get("/api/trunks/acme/?name=").status_code == 200


def test_an_id_filter_naming_no_object_says_it_does_not_exist(api, world):
    response = api("acme").get("/api/time-conditions/acme/?schedule=987654")
    assert response.status_code == 400 and codes(response, "schedule") == ["does_not_exist"]


@pytest.mark.parametrize("ordering,status", [("-name,created_at", 200), ("", 200), (".exe", 400),
                                             ("name,", 400), ("name, -created_at", 400)])
def test_ordering_matches_the_documented_pattern(api, world, ordering, status):
    response = api("acme").get(f"/api/trunks/acme/?ordering={ordering}")
    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "invalid_ordering"


@pytest.mark.parametrize("path", ["/api/crm-imports/acme/", "/api/contact-center/acme/agents/"])
def test_a_list_without_a_create_service_does_not_offer_post(api, world, path):
    response = api("acme").post(path, {"name": "x"})
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert "POST" not in response["Allow"]


def test_the_document_lists_only_offered_writes(api, world):
    paths = api("system").get("/api/schema/?format=json").json()["paths"]
    assert "post" not in paths["/api/crm-imports/{tenant}/"]
    assert "post" not in paths["/api/contact-center/{tenant}/agents/"]
    assert "post" in paths["/api/extensions/{tenant}/"]


def test_a_partial_update_of_a_contact_still_returns_account_name(api, world):
    contact = api("acme").post("/api/crm-contacts/acme/", {"first_name": "Ada"}).json()
    response = api("acme").patch(f"/api/crm-contacts/acme/{contact['id']}/", {"last_name": "L"})
    assert response.status_code == 200 and response.json()["account_name"] is None
