"""IVRs and their options."""
import pytest

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
IVRS = "/api/ivrs/acme/"


def test_ivr_with_options_and_destinations(api, world):
    e = api("acme").post("/api/extensions/acme/", {"number": "1001", "name": "E"}).json()["id"]
    response = api("acme").post(IVRS, {
        "name": "Main", "number": "6000", "greeting_text": "Welcome", "direct_dial": True,
        "invalid_destination": {"type": "hangup"}, "timeout_destination": {"type": "extension", "id": e},
        "options": [{"digit": "1", "destination": {"type": "extension", "id": e}},
                    {"digit": "#", "destination": {"type": "external", "number": "+14155550123"}}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert [o["digit"] for o in body["options"]] == ["#", "1"]
    ivr_id = body["id"]
    response = api("acme").patch(f"{IVRS}{ivr_id}/", {"options": [{"digit": "0", "destination": {
        "type": "ivr", "id": ivr_id}}]})
    assert response.json()["options"] == [{"digit": "0", "destination": {"type": "ivr", "id": ivr_id}}]
    event = OutboxEvent.objects.get(type="config.ivr.updated")
    assert event.data["options"][0]["destination"] == {"type": "ivr", "id": ivr_id}


def test_repeated_digits_are_refused(api, world):
    response = api("acme").post(IVRS, {"name": "Main", "options": [
        {"digit": "1", "destination": {"type": "hangup"}}, {"digit": "2", "destination": {"type": "hangup"}},
        {"digit": "1", "destination": {"type": "hangup"}}]})
    assert response.status_code == 400 and codes(response) == "duplicate_digit"
    assert "options[2].digit" in fields(response)


def test_bad_digit_and_foreign_destination(api, world):
    response = api("acme").post(IVRS, {"name": "Main", "options": [{"digit": "A", "destination": {"type": "hangup"}}]})
    assert response.status_code == 400 and "options[0].digit" in fields(response)
    foreign = api("globex").post("/api/queues/globex/", {"number": "5000", "name": "Q"}).json()["id"] + 1000
    response = api("acme").post(IVRS, {"name": "Main", "options": [
        {"digit": "1", "destination": {"type": "queue", "id": foreign}}]})
    assert codes(response) == "destination_not_found" and "options[0].destination" in fields(response)


def test_ivr_number_is_optional_but_in_the_number_plan(api, world):
    assert api("acme").post(IVRS, {"name": "A"}).json()["number"] is None
    assert api("acme").post(IVRS, {"name": "B"}).status_code == 201  # several without numbers
    api("acme").post(IVRS, {"name": "C", "number": "6000"})
    assert codes(api("acme").post("/api/queues/acme/", {"number": "6000", "name": "Q"})) == "duplicate_number"


def test_ivr_used_by_a_did_cannot_be_deleted(api, world):
    ivr_id = api("acme").post(IVRS, {"name": "Main"}).json()["id"]
    api("acme").post("/api/dids/acme/", {"number": "+14155550100", "destination": {"type": "ivr", "id": ivr_id}})
    response = api("acme").delete(f"{IVRS}{ivr_id}/")
    assert response.status_code == 409 and response.json()["used_by"] == ["DID +14155550100"]


def test_tenant_isolation(api, world):
    ivr_id = api("acme").post(IVRS, {"name": "Main"}).json()["id"]
    check_tenant_isolation(api, resource="ivrs", tenant=world.acme, obj_id=ivr_id, update={"name": "x"},
                           create={"name": "x"})


def test_an_ivr_that_points_at_itself_can_still_be_deleted(api, world):
    ivr_id = api("acme").post(IVRS, {"name": "Main"}).json()["id"]
    api("acme").patch(f"{IVRS}{ivr_id}/", {"timeout_destination": {"type": "ivr", "id": ivr_id},
                                           "options": [{"digit": "0", "destination": {"type": "ivr", "id": ivr_id}}]})
    assert api("acme").delete(f"{IVRS}{ivr_id}/").status_code == 204
