"""Schedules with ranges, time conditions with loop detection and the override action."""
import pytest

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
SCHEDULES = "/api/schedules/acme/"
TCS = "/api/time-conditions/acme/"
HANGUP = {"type": "hangup"}


def schedule(api, name="Office hours", **body):
    body = {"name": name, "timezone": "Europe/Paris",
            "weekly_ranges": [{"day_of_week": d, "start_time": "09:00", "end_time": "17:30"} for d in range(5)],
            "holidays": [{"name": "New year", "start_date": "2027-01-01", "end_date": "2027-01-01"}], **body}
    return api("acme").post(SCHEDULES, body)


def tc(api, schedule_id, name="Hours", match=HANGUP, no_match=HANGUP):
    return api("acme").post(TCS, {"name": name, "schedule": schedule_id, "match_destination": match,
                                  "no_match_destination": no_match})


def test_schedule_with_ranges(api, world):
    response = schedule(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["weekly_ranges"]) == 5 and body["weekly_ranges"][0]["end_time"] == "17:30:00"
    assert body["holidays"][0]["name"] == "New year"
    response = api("acme").patch(f"{SCHEDULES}{body['id']}/", {"holidays": []})
    assert response.json()["holidays"] == [] and len(response.json()["weekly_ranges"]) == 5


def test_schedule_ranges_are_checked(api, world):
    response = schedule(api, weekly_ranges=[{"day_of_week": 0, "start_time": "18:00", "end_time": "09:00"}])
    assert response.status_code == 400 and "weekly_ranges[0].end_time" in fields(response)
    response = schedule(api, weekly_ranges=[{"day_of_week": 9, "start_time": "08:00", "end_time": "09:00"}])
    assert response.status_code == 400 and "weekly_ranges[0].day_of_week" in fields(response)
    response = schedule(api, holidays=[{"name": "x", "start_date": "2027-01-05", "end_date": "2027-01-01"}])
    assert response.status_code == 400 and "holidays[0].end_date" in fields(response)
    response = schedule(api, timezone="Mars/Olympus")
    assert response.status_code == 400 and "timezone" in fields(response)


def test_time_condition_routes_and_can_be_overridden(api, world):
    s = schedule(api).json()["id"]
    q = api("acme").post("/api/queues/acme/", {"number": "5000", "name": "Q"}).json()["id"]
    response = tc(api, s, match={"type": "queue", "id": q}, no_match={"type": "external", "number": "4155550100"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["no_match_destination"] == {"type": "external", "number": "+14155550100"}
    response = api("acme").post(f"{TCS}{body['id']}/override", {"mode": "force_closed"})
    assert response.status_code == 200 and response.json()["override"] == "force_closed"
    assert response.json()["override_changed_at"]
    event = OutboxEvent.objects.filter(type="config.time_condition.updated").get()
    assert event.data["override"] == "force_closed"
    assert codes(api("acme").post(f"{TCS}{body['id']}/override/", {"mode": "maybe"})) == "validation_error"
    assert codes(api("acme_ro").post(f"{TCS}{body['id']}/override", {"mode": "auto"})) == "read_only_credential"


def test_time_condition_loops_are_refused(api, world):
    s = schedule(api).json()["id"]
    a = tc(api, s, name="A").json()["id"]
    b = tc(api, s, name="B", match={"type": "time_condition", "id": a}).json()["id"]
    c = tc(api, s, name="C", no_match={"type": "time_condition", "id": b}).json()["id"]
    # A -> C -> B -> A
    response = api("acme").patch(f"{TCS}{a}/", {"no_match_destination": {"type": "time_condition", "id": c}})
    assert response.status_code == 400 and codes(response) == "destination_loop"
    assert "no_match_destination" in fields(response)
    response = api("acme").patch(f"{TCS}{a}/", {"match_destination": {"type": "time_condition", "id": a}})
    assert codes(response) == "destination_loop"
    # A chain without a cycle is fine
    d = tc(api, s, name="D").json()["id"]
    assert api("acme").patch(f"{TCS}{a}/", {"match_destination": {"type": "time_condition", "id": d}}).status_code == 200


def test_schedule_in_use_and_time_condition_in_use(api, world):
    s = schedule(api).json()["id"]
    t = tc(api, s, name="Business hours").json()["id"]
    response = api("acme").delete(f"{SCHEDULES}{s}/")
    assert response.status_code == 409 and response.json()["used_by"] == ["time condition Business hours"]
    api("acme").post("/api/dids/acme/", {"number": "+14155550100", "destination": {"type": "time_condition", "id": t}})
    response = api("acme").delete(f"{TCS}{t}/")
    assert response.status_code == 409 and response.json()["used_by"] == ["DID +14155550100"]


def test_time_condition_schedule_must_exist_here(api, world):
    foreign = api("globex").post("/api/schedules/globex/", {"name": "G"}).json()["id"] + 1000
    response = tc(api, foreign)
    assert response.status_code == 400 and "schedule" in fields(response)


def test_tenant_isolation(api, world):
    s = schedule(api).json()["id"]
    check_tenant_isolation(api, resource="schedules", tenant=world.acme, obj_id=s, update={"description": "x"},
                           create={"name": "x"})
    t = tc(api, s).json()["id"]
    check_tenant_isolation(api, resource="time-conditions", tenant=world.acme, obj_id=t, update={"name": "x"},
                           create={"name": "x", "schedule": s, "match_destination": HANGUP,
                                   "no_match_destination": HANGUP})
    for key in ("globex", "initech"):
        response = api(key).post(f"{TCS}{t}/override", {"mode": "force_open"})
        assert response.status_code == 404 and codes(response) == "tenant_not_found"
