"""Queues with members, and agents."""
import pytest

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
QUEUES = "/api/queues/acme/"
AGENTS = "/api/agents/acme/"


def ext(api, number="1001", tenant="acme"):
    return api(tenant).post(f"/api/extensions/{tenant}/", {"number": number, "name": "E"}).json()["id"]


def agent(api, name="Bob", login_code="7001", **body):
    return api("acme").post(AGENTS, {"name": name, "login_code": login_code, **body})


def test_queue_with_extension_and_agent_members(api, world):
    e = ext(api)
    a = agent(api).json()["id"]
    response = api("acme").post(QUEUES, {"number": "5000", "name": "Support", "strategy": "rrmemory",
                                         "members": [{"extension": e, "penalty": 2}, {"agent": a}],
                                         "fallback": {"type": "voicemail", "id": e}})
    assert response.status_code == 201, response.content
    body = response.json()
    # listed by penalty: who is tried first
    assert body["members"] == [{"extension": None, "agent": a, "penalty": 0},
                               {"extension": e, "agent": None, "penalty": 2}]
    assert body["fallback"] == {"type": "voicemail", "id": e}
    assert api("acme").get(f"{AGENTS}{a}/").json()["queues"] == [{"queue": body["id"], "penalty": 0}]
    response = api("acme").patch(f"{QUEUES}{body['id']}/", {"members": [{"agent": a, "penalty": 5}]})
    assert response.json()["members"] == [{"extension": None, "agent": a, "penalty": 5}]
    assert OutboxEvent.objects.filter(type="config.queue.updated").get().data["members"][0]["penalty"] == 5


@pytest.mark.parametrize("member", [{}, {"extension": 1, "agent": 1}])
def test_member_is_an_extension_or_an_agent(api, world, member):
    response = api("acme").post(QUEUES, {"number": "5000", "name": "Q", "members": [member]})
    assert response.status_code == 400 and "members[0]" in fields(response)


def test_members_must_exist_in_this_tenant_and_appear_once(api, world):
    foreign = ext(api, "2001", tenant="globex")
    response = api("acme").post(QUEUES, {"number": "5000", "name": "Q", "members": [{"extension": foreign}]})
    assert response.status_code == 400 and codes(response) == "reference_not_found"
    assert "members[0].extension" in fields(response)
    e = ext(api)
    response = api("acme").post(QUEUES, {"number": "5000", "name": "Q",
                                         "members": [{"extension": e}, {"extension": e}]})
    assert response.status_code == 409 and "members[1].extension" in fields(response)


def test_queue_strategy_limit_and_number_plan(api, world):
    assert "strategy" in fields(api("acme").post(QUEUES, {"number": "5000", "name": "Q", "strategy": "best"}))
    ext(api, "5000")
    assert codes(api("acme").post(QUEUES, {"number": "5000", "name": "Q"})) == "duplicate_number"
    world.acme.max_queues = 1
    world.acme.save()
    assert api("acme").post(QUEUES, {"number": "5001", "name": "Q"}).status_code == 201
    assert codes(api("acme").post(QUEUES, {"number": "5002", "name": "Q"})) == "limit_exceeded"


def test_queue_used_as_a_destination_cannot_be_deleted(api, world):
    q = api("acme").post(QUEUES, {"number": "5000", "name": "Sales"}).json()["id"]
    api("acme").post("/api/ivrs/acme/", {"name": "Main", "options": [{"digit": "1",
                                                                      "destination": {"type": "queue", "id": q}}]})
    response = api("acme").delete(f"{QUEUES}{q}/")
    assert response.status_code == 409 and response.json()["used_by"] == ["IVR Main option 1"]


def test_agent_state_is_read_only_here(api, world):
    """State changes go through the contact-center actions, which also tell the PBX
    (tests/pbx/test_contact_center.py); the agents resource cannot bypass them."""
    a = agent(api, extension=ext(api)).json()["id"]
    response = api("acme").patch(f"{AGENTS}{a}/", {"state": "paused", "pause_reason": "lunch", "name": "Ann B"})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Ann B" and body["state"] == "logged_out" and body["pause_reason"] == ""
    assert api("acme").post(f"{AGENTS}{a}/state", {"state": "paused"}).status_code == 404
    assert api("acme").get(f"{AGENTS}?state=logged_out")["X-Total-Count"] == "1"


def test_agent_login_codes_and_extensions_are_not_shared(api, world):
    e = ext(api)
    agent(api, extension=e)
    assert codes(agent(api, name="Eve")) == "duplicate"
    response = agent(api, name="Eve", login_code="7002", extension=e)
    assert response.status_code == 409 and "extension" in fields(response)
    assert "login_code" in fields(agent(api, name="Eve", login_code="12ab"))


def test_agent_in_a_queue_cannot_be_deleted(api, world):
    a = agent(api).json()["id"]
    api("acme").post(QUEUES, {"number": "5000", "name": "Support", "members": [{"agent": a}]})
    response = api("acme").delete(f"{AGENTS}{a}/")
    assert response.status_code == 409 and response.json()["used_by"] == ["queue 5000 Support"]


def test_tenant_isolation(api, world):
    q = api("acme").post(QUEUES, {"number": "5000", "name": "Q"}).json()["id"]
    check_tenant_isolation(api, resource="queues", tenant=world.acme, obj_id=q, update={"name": "x"},
                           create={"number": "5001", "name": "x"})
    a = agent(api).json()["id"]
    check_tenant_isolation(api, resource="agents", tenant=world.acme, obj_id=a, update={"name": "x"},
                           create={"name": "x", "login_code": "9999"})
