"""Conferences, parking lots and paging groups through the API (issue 12)."""
import pytest

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
CONF = "/api/conferences/acme/"
PARK = "/api/parking-lots/acme/"
PAGE = "/api/paging-groups/acme/"


def extension(api, number="1001", tenant="acme"):
    return api(tenant).post(f"/api/extensions/{tenant}/", {"number": number, "name": f"E{number}"}).json()["id"]


def test_conference_pins_are_write_only_and_checked(api, world):
    response = api("acme").post(CONF, {"number": "800", "name": "Weekly", "pin": "4321", "admin_pin": "98765",
                                       "max_members": 20, "record": True, "wait_for_admin": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert "pin" not in body and "admin_pin" not in body and body["has_pin"] and body["has_admin_pin"]
    event = OutboxEvent.objects.get(type="config.conference.created")
    assert "4321" not in str(event.data) and event.data["has_pin"] is True
    path = f"{CONF}{body['id']}/"
    assert api("acme").patch(path, {"name": "Renamed"}).json()["has_pin"] is True  # absent: kept
    assert api("acme").patch(path, {"pin": ""}).json()["has_pin"] is False  # empty: cleared
    assert "pin" in fields(api("acme").patch(path, {"pin": "12ab"}))
    assert "admin_pin" in fields(api("acme").patch(path, {"pin": "98765"}))  # equal to the admin PIN
    assert "admin_pin" in fields(api("acme").post(CONF, {"number": "801", "name": "X", "wait_for_admin": True}))
    assert api("acme").post(CONF, {"number": "801", "name": "X", "max_members": 999}).status_code == 400
    assert codes(api("acme").post(CONF, {"number": "800", "name": "Dup"})) == "duplicate_number"
    # a destination
    did = api("acme").post("/api/dids/acme/", {"number": "+14155550100",
                                               "destination": {"type": "conference", "id": body["id"]}})
    assert did.status_code == 201
    assert api("acme").delete(path).json()["used_by"] == ["DID +14155550100"]


def test_parking_lot_slots_are_part_of_the_number_plan(api, world):
    response = api("acme").post(PARK, {"name": "Main", "number": "700", "slot_start": "701", "slot_end": "720"})
    assert response.status_code == 201, response.content
    assert OutboxEvent.objects.get(type="config.parking_lot.created").data["slot_end"] == "720"
    # a slot or the park number cannot be another number
    assert codes(api("acme").post("/api/queues/acme/", {"number": "705", "name": "Q"})) == "duplicate_number"
    assert codes(api("acme").post("/api/ring-groups/acme/", {"number": "700", "name": "R"})) == "duplicate_number"
    # nor can a new lot's slots take existing numbers or overlap another lot
    api("acme").post("/api/queues/acme/", {"number": "750", "name": "Q"})
    assert codes(api("acme").post(PARK, {"name": "B", "number": "800", "slot_start": "740", "slot_end": "760"})) \
        == "duplicate_number"
    assert codes(api("acme").post(PARK, {"name": "B", "number": "800", "slot_start": "715", "slot_end": "730"})) \
        == "duplicate_number"
    for bad in ({"slot_start": "730", "slot_end": "721"}, {"slot_start": "730", "slot_end": "7300"},
                {"slot_start": "100", "slot_end": "300"}):
        assert codes(api("acme").post(PARK, {"name": "C", "number": "800", **bad})) == "invalid_range", bad
    assert codes(api("acme").post(PARK, {"name": "C", "number": "731", "slot_start": "730", "slot_end": "739"})) \
        == "invalid_range"  # the park number is one of its slots
    assert api("acme").post(PARK, {"name": "Main", "number": "800", "slot_start": "801",
                                   "slot_end": "802"}).status_code == 409  # name taken


def test_paging_group_members(api, world):
    a, b = extension(api, "1001"), extension(api, "1002")
    response = api("acme").post(PAGE, {"number": "900", "name": "All", "members": [b, a], "duplex": True})
    assert response.status_code == 201, response.content
    assert response.json()["members"] == sorted([a, b])
    assert codes(api("acme").post(PAGE, {"number": "901", "name": "X", "members": [a, a]})) == "duplicate"
    foreign = extension(api, "1001", tenant="globex")
    assert codes(api("acme").post(PAGE, {"number": "901", "name": "X", "members": [foreign + 1000]})) \
        == "reference_not_found"
    assert api("acme").delete(f"/api/extensions/acme/{a}/").json()["used_by"] == ["paging group 900 All"]


@pytest.mark.parametrize(("resource", "create", "update"), [
    ("conferences", {"number": "800", "name": "C"}, {"name": "x"}),
    ("parking-lots", {"name": "P", "number": "700", "slot_start": "701", "slot_end": "702"}, {"name": "x"}),
    ("paging-groups", {"number": "900", "name": "G"}, {"name": "x"}),
])
def test_isolation(api, world, resource, create, update):
    obj = api("acme").post(f"/api/{resource}/acme/", create).json()["id"]
    check_tenant_isolation(api, resource=resource, tenant=world.acme, obj_id=obj, update=update, create=create)
