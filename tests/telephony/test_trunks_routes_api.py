"""Trunks and outbound routes."""
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.telephony.models import Trunk
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
TRUNKS = "/api/trunks/acme/"
ROUTES = "/api/outbound-routes/acme/"
TRUNK_SECRET = "carrier-pass-991"


def trunk(api, name="carrier-a", **body):
    body = {"name": name, "host": "sip.carrier.example", "username": "acme01", "secret": TRUNK_SECRET, **body}
    return api("acme").post(TRUNKS, body)


def test_registration_trunk_secret_is_write_only_and_encrypted(api, world):
    response = trunk(api)
    assert response.status_code == 201, response.content
    assert "secret" not in response.json() and response.json()["has_secret"] is True
    assert TRUNK_SECRET not in response.content.decode()
    with tenant_context(world.acme):
        assert Trunk.objects.get().secret == TRUNK_SECRET
    event = OutboxEvent.objects.get(type="config.trunk.created")
    assert event.system and TRUNK_SECRET not in str(event.data) and "secret" not in event.data


def test_registration_trunk_without_credentials_is_refused(api, world):
    response = trunk(api, username="", secret="")
    assert response.status_code == 400 and codes(response) == "missing_credentials"
    assert set(fields(response)) == {"username", "secret"}
    response = trunk(api, auth_type="ip_auth", username="", secret="")
    assert response.status_code == 201


def test_updating_without_a_secret_keeps_the_stored_one(api, world):
    trunk_id = trunk(api).json()["id"]
    response = api("acme").patch(f"{TRUNKS}{trunk_id}/", {"port": 5080, "secret": ""})
    assert response.status_code == 200 and response.json()["port"] == 5080
    with tenant_context(world.acme):
        assert Trunk.objects.get().secret == TRUNK_SECRET


def test_trunk_names_are_unique_and_limited(api, world):
    trunk(api)
    response = trunk(api)
    assert response.status_code == 409 and codes(response) == "duplicate" and "name" in fields(response)
    world.acme.max_trunks = 1
    world.acme.save()
    assert codes(trunk(api, name="carrier-b")) == "limit_exceeded"


def test_trunk_port_and_transport_are_checked(api, world):
    assert "port" in fields(trunk(api, port=70000))
    assert "transport" in fields(trunk(api, transport="sctp"))


def test_route_keeps_trunk_order_and_validates_patterns(api, world):
    a, b = trunk(api).json()["id"], trunk(api, name="carrier-b").json()["id"]
    response = api("acme").post(ROUTES, {"name": "US", "dial_patterns": ["_1NXXNXXXXXX", "_NXXNXXXXXX", "_011.",
                                                                          "_[2-9]XX"], "trunks": [b, a], "prepend": "1"})
    assert response.status_code == 201, response.content
    assert response.json()["trunks"] == [b, a]
    route_id = response.json()["id"]
    response = api("acme").patch(f"{ROUTES}{route_id}/", {"trunks": [a]})
    assert response.json()["trunks"] == [a]
    assert OutboxEvent.objects.filter(type="config.outbound_route.updated").get().data["trunks"] == [a]


@pytest.mark.parametrize("pattern", ["_1NXX-XXX", "_[9-2]XX", "NXXNXXXXXX", "_", "_X.X", "_[]1"])
def test_bad_dial_patterns(api, world, pattern):
    a = trunk(api).json()["id"]
    response = api("acme").post(ROUTES, {"name": "Bad", "dial_patterns": [pattern], "trunks": [a]})
    assert response.status_code == 400 and codes(response) == "invalid_pattern", pattern
    assert "dial_patterns[0]" in fields(response)


def test_route_trunks_must_exist_in_this_tenant(api, world):
    foreign = api("globex").post("/api/trunks/globex/", {"name": "g", "host": "h", "auth_type": "ip_auth"}).json()["id"]
    response = api("acme").post(ROUTES, {"name": "R", "dial_patterns": ["911"], "trunks": [foreign]})
    assert response.status_code == 400 and codes(response) == "reference_not_found"
    assert "trunks[0]" in fields(response)


def test_emergency_route_needs_numbers(api, world):
    a = trunk(api).json()["id"]
    response = api("acme").post(ROUTES, {"name": "E", "dial_patterns": ["911"], "trunks": [a], "is_emergency": True})
    assert response.status_code == 400 and "emergency_numbers" in fields(response)
    response = api("acme").post(ROUTES, {"name": "E", "dial_patterns": ["911"], "trunks": [a], "is_emergency": True,
                                         "emergency_numbers": ["911", "933"]})
    assert response.status_code == 201


def test_trunk_used_by_a_route_cannot_be_deleted(api, world):
    a = trunk(api).json()["id"]
    api("acme").post(ROUTES, {"name": "Long distance", "dial_patterns": ["_1NXXNXXXXXX"], "trunks": [a]})
    response = api("acme").delete(f"{TRUNKS}{a}/")
    assert response.status_code == 409 and codes(response) == "in_use"
    assert response.json()["used_by"] == ["outbound route Long distance"]


def test_routes_are_listed_by_priority(api, world):
    a = trunk(api).json()["id"]
    for name, priority in [("b", 20), ("a", 10), ("c", 30)]:
        api("acme").post(ROUTES, {"name": name, "priority": priority, "dial_patterns": ["_X."], "trunks": [a]})
    assert [r["name"] for r in api("acme").get(ROUTES).json()] == ["a", "b", "c"]
    assert api("acme").get(f"{ROUTES}?trunk={a}")["X-Total-Count"] == "3"


def test_tenant_isolation(api, world):
    a = trunk(api).json()["id"]
    check_tenant_isolation(api, resource="trunks", tenant=world.acme, obj_id=a, update={"port": 5061},
                           create={"name": "z", "host": "h", "auth_type": "ip_auth"})
    route = api("acme").post(ROUTES, {"name": "R", "dial_patterns": ["_X."], "trunks": [a]}).json()["id"]
    check_tenant_isolation(api, resource="outbound-routes", tenant=world.acme, obj_id=route,
                           update={"priority": 5}, create={"name": "z", "dial_patterns": ["_X."], "trunks": [a]})
