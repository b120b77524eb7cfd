"""DIDs: E.164, unique across the platform, destinations of the same tenant only."""
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.telephony.models import Extension
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
BASE = "/api/dids/acme/"


def ext(api, tenant="acme", number="1001"):
    return api(tenant).post(f"/api/extensions/{tenant}/", {"number": number, "name": "E"}).json()["id"]


def test_national_numbers_are_stored_as_e164(api, world):
    response = api("acme").post(BASE, {"number": "(415) 555-0100", "destination": {"type": "hangup"}})
    assert response.status_code == 201, response.content
    assert response.json()["number"] == "+14155550100"


@pytest.mark.parametrize("number", ["12", "+1 555", "hello", "+999123456789"])
def test_invalid_numbers_are_refused(api, world, number):
    response = api("acme").post(BASE, {"number": number})
    assert response.status_code == 400 and codes(response) == "invalid_e164"
    assert "number" in fields(response)


def test_a_number_is_unique_across_the_platform_without_naming_the_holder(api, world):
    assert api("initech").post("/api/dids/initech/", {"number": "+14155550100"}).status_code == 201
    response = api("acme").post(BASE, {"number": "+1 415 555 0100"})
    assert response.status_code == 409 and codes(response) == "number_taken"
    assert "initech" not in response.content.decode().lower()
    response = api("initech").post("/api/dids/initech/", {"number": "4155550100"})
    assert response.status_code == 409 and codes(response) == "number_taken"


def test_changing_a_number_to_one_held_elsewhere_is_refused(api, world):
    api("globex").post("/api/dids/globex/", {"number": "+14155550101"})
    did = api("acme").post(BASE, {"number": "+14155550100"}).json()
    response = api("acme").patch(f"{BASE}{did['id']}/", {"number": "+14155550101"})
    assert response.status_code == 409 and codes(response) == "number_taken"
    response = api("acme").patch(f"{BASE}{did['id']}/", {"number": "+14155550100", "description": "Main"})
    assert response.status_code == 200 and response.json()["description"] == "Main"


def test_destination_must_exist_in_the_same_tenant(api, world):
    foreign = ext(api, "globex", "2001")
    with tenant_context(world.acme):
        assert not Extension.objects.filter(pk=foreign).exists()
    response = api("acme").post(BASE, {"number": "+14155550100", "destination": {"type": "extension", "id": foreign}})
    assert response.status_code == 400 and codes(response) == "destination_not_found"
    assert fields(response)["destination"][0]["code"] == "destination_not_found"


@pytest.mark.parametrize("destination, code", [
    ({"type": "queue"}, "invalid_destination"),
    ({"type": "teleport", "id": 1}, "invalid_destination"),
    ({"type": "external"}, "invalid_destination"),
    ({"type": "external", "number": "12"}, "invalid_e164"),
    ({"type": "ivr", "id": "x"}, "validation_error"),
    ("extension", "validation_error"),
])
def test_malformed_destinations(api, world, destination, code):
    response = api("acme").post(BASE, {"number": "+14155550100", "destination": destination})
    assert response.status_code == 400 and codes(response) == code, response.content


def test_external_destination_is_normalised(api, world):
    body = api("acme").post(BASE, {"number": "+14155550100",
                                   "destination": {"type": "external", "number": "020 7946 0018"}})
    assert body.status_code == 400  # read in the tenant's region (US): not a valid US number
    world.acme.default_region = "GB"
    world.acme.save()
    body = api("acme").post(BASE, {"number": "+14155550100",
                                   "destination": {"type": "external", "number": "020 7946 0018"}}).json()
    assert body["destination"] == {"type": "external", "number": "+442079460018"}


def test_did_limit(api, world):
    world.acme.max_dids = 1
    world.acme.save()
    assert api("acme").post(BASE, {"number": "+14155550100"}).status_code == 201
    assert codes(api("acme").post(BASE, {"number": "+14155550101"})) == "limit_exceeded"


def test_lifecycle_events_are_system_events(api, world):
    target = ext(api)
    did = api("acme").post(BASE, {"number": "+14155550100", "destination": {"type": "extension", "id": target}}).json()
    api("acme").patch(f"{BASE}{did['id']}/", {"enabled": False})
    api("acme").delete(f"{BASE}{did['id']}/")
    events = OutboxEvent.objects.filter(type__startswith="config.did.").order_by("id")
    assert [e.type for e in events] == ["config.did.created", "config.did.updated", "config.did.deleted"]
    assert all(e.system and e.tenant_slug == "acme" for e in events)
    assert events[0].data["destination"] == {"type": "extension", "id": target}


def test_filters(api, world):
    target = ext(api)
    api("acme").post(BASE, {"number": "+14155550100", "destination": {"type": "extension", "id": target}})
    api("acme").post(BASE, {"number": "+14155550101"})
    assert api("acme").get(f"{BASE}?destination_type=extension").json()[0]["number"] == "+14155550100"
    assert api("acme").get(f"{BASE}?search=0101")["X-Total-Count"] == "1"


def test_tenant_isolation(api, world):
    did = api("acme").post(BASE, {"number": "+14155550100"}).json()
    check_tenant_isolation(api, resource="dids", tenant=world.acme, obj_id=did["id"], update={"description": "x"},
                           create={"number": "+14155550199"})
