"""Ring groups, block lists, feature codes and per-user call settings through the API (issue 12)."""
import pytest

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
RG = "/api/ring-groups/acme/"
BL = "/api/block-lists/acme/"
FC = "/api/feature-codes/acme/"


def extension(api, number="1001", tenant="acme"):
    return api(tenant).post(f"/api/extensions/{tenant}/", {"number": number, "name": f"E{number}"}).json()["id"]


# --- ring groups ---------------------------------------------------------------------------------

def test_ring_group_with_members_and_a_no_answer_destination(api, world):
    a, b = extension(api, "1001"), extension(api, "1002")
    response = api("acme").post(RG, {
        "number": "600", "name": "Front desk", "strategy": "memoryhunt", "ring_time": 40,
        "members": [{"extension": a}, {"extension": b, "delay": 10, "ring_time": 15},
                    {"number": "(415) 555-0123", "delay": 20}],
        "no_answer_destination": {"type": "voicemail", "id": a}})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["members"] == [{"extension": a, "number": None, "delay": 0, "ring_time": 20},
                               {"extension": b, "number": None, "delay": 10, "ring_time": 15},
                               {"extension": None, "number": "+14155550123", "delay": 20, "ring_time": 20}]
    event = OutboxEvent.objects.get(type="config.ring_group.created")
    assert event.data["members"][2]["number"] == "+14155550123"
    # a destination of DIDs, IVRs, time conditions and queue fallbacks
    did = api("acme").post("/api/dids/acme/", {"number": "+14155550100",
                                               "destination": {"type": "ring_group", "id": body["id"]}})
    assert did.status_code == 201 and did.json()["destination"] == {"type": "ring_group", "id": body["id"]}
    queue = api("acme").post("/api/queues/acme/", {"number": "5000", "name": "Q",
                                                   "fallback": {"type": "ring_group", "id": body["id"]}})
    assert queue.status_code == 201
    response = api("acme").delete(f"{RG}{body['id']}/")
    assert response.status_code == 409 and response.json()["used_by"] == [
        "DID +14155550100", "queue 5000 Q (fallback)"]
    # a member extension is in use too
    assert api("acme").delete(f"/api/extensions/acme/{b}/").json()["used_by"] == ["ring group 600 Front desk"]


def test_ring_group_rules(api, world):
    a = extension(api, "1001")
    assert codes(api("acme").post(RG, {"number": "1001", "name": "X"})) == "duplicate_number"
    api("acme").post(RG, {"number": "600", "name": "X"})
    assert codes(api("acme").post("/api/extensions/acme/", {"number": "600", "name": "E"})) in (
        "duplicate_number", "invalid_number")
    assert codes(api("acme").post("/api/queues/acme/", {"number": "600", "name": "Q"})) == "duplicate_number"
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "members": [{"extension": a}, {"extension": a}]})
    assert bad.status_code == 409 and "members[1]" in fields(bad)
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "members": [{"extension": a, "number": "+14155550123"}]})
    assert bad.status_code == 400 and "members[0]" in fields(bad)
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "members": [{"number": "12"}]})
    assert codes(bad) == "invalid_e164" and "members[0].number" in fields(bad)
    foreign = extension(api, "1001", tenant="globex")
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "members": [{"extension": foreign + 1000}]})
    assert codes(bad) == "reference_not_found"
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "strategy": "random"})
    assert bad.status_code == 400 and "strategy" in fields(bad)
    bad = api("acme").post(RG, {"number": "601", "name": "Y", "members": [{"extension": a, "delay": 500}]})
    assert bad.status_code == 400


def test_ring_group_isolation(api, world):
    rg = api("acme").post(RG, {"number": "600", "name": "X"}).json()["id"]
    check_tenant_isolation(api, resource="ring-groups", tenant=world.acme, obj_id=rg, update={"name": "x"},
                           create={"number": "601", "name": "x"})
    # another tenant's ring group is not a destination here
    assert codes(api("globex").post("/api/dids/globex/", {"number": "+12125550100",
                                                         "destination": {"type": "ring_group", "id": rg}})) \
        == "destination_not_found"


# --- block lists ---------------------------------------------------------------------------------

def test_block_list_entries_dids_and_events(api, world):
    did = api("acme").post("/api/dids/acme/", {"number": "+14155550100"}).json()["id"]
    response = api("acme").post(BL, {
        "name": "Spam", "all_dids": False, "dids": [did], "block_anonymous": True, "action": "busy",
        "entries": [{"value": "415 555 0199", "description": "robocaller"},
                    {"kind": "pattern", "value": "_+1900x."}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["entries"] == [{"kind": "number", "value": "+14155550199", "description": "robocaller"},
                               {"kind": "pattern", "value": "_+1900X.", "description": ""}]
    assert body["dids"] == [did]
    assert OutboxEvent.objects.get(type="config.block_list.created").data["dids"] == [did]
    bad = api("acme").post(BL, {"name": "B", "entries": [{"kind": "pattern", "value": "_+19;00"}]})
    assert codes(bad) == "invalid_pattern" and "entries[0].value" in fields(bad)
    bad = api("acme").post(BL, {"name": "B", "entries": [{"value": "+14155550199"}, {"value": "4155550199"}]})
    assert bad.status_code == 409 and "entries[1].value" in fields(bad)
    assert api("acme").post(BL, {"name": "Spam"}).status_code == 409
    foreign = api("globex").post("/api/dids/globex/", {"number": "+12125550100"}).json()["id"]
    assert api("acme").post(BL, {"name": "C", "dids": [foreign]}).status_code == 400
    # deleting a DID takes it off the list
    api("acme").delete(f"/api/dids/acme/{did}/")
    assert api("acme").get(f"{BL}{body['id']}/").json()["dids"] == []


def test_block_list_isolation(api, world):
    bl = api("acme").post(BL, {"name": "Spam"}).json()["id"]
    check_tenant_isolation(api, resource="block-lists", tenant=world.acme, obj_id=bl, update={"name": "x"},
                           create={"name": "x"})


# --- feature codes -------------------------------------------------------------------------------

def test_feature_codes_defaults_overrides_and_clashes(api, world):
    effective = {f["feature"]: f for f in api("acme").get(f"{FC}effective").json()}
    assert effective["dnd_toggle"]["code"] == "*76" and effective["voicemail"]["code"] == "*97"
    created = api("acme").post(FC, {"feature": "dnd_toggle", "code": "*31"})
    assert created.status_code == 201 and created.json()["default"] == "*76"
    assert OutboxEvent.objects.get(type="config.feature_code.created").data["code"] == "*31"
    effective = {f["feature"]: f for f in api("acme").get(f"{FC}effective").json()}
    assert effective["dnd_toggle"] == {**effective["dnd_toggle"], "code": "*31", "customised": True}
    clash = api("acme").post(FC, {"feature": "pickup", "code": "*97"})
    assert clash.status_code == 409 and codes(clash) == "feature_code_conflict"
    prefix = api("acme").post(FC, {"feature": "pickup", "code": "*721"})  # *72 takes a number after it
    assert codes(prefix) == "feature_code_conflict"
    assert api("acme").post(FC, {"feature": "pickup", "code": "abc"}).status_code == 400
    assert api("acme").post(FC, {"feature": "nope"}).status_code == 400
    # turning a feature off frees its code; deleting the override brings back a clashing default
    off = api("acme").post(FC, {"feature": "voicemail_any", "enabled": False}).json()["id"]
    freed = api("acme").post(FC, {"feature": "pickup", "code": "*98"})
    assert freed.status_code == 201, freed.content
    assert codes(api("acme").delete(f"{FC}{off}/")) == "feature_code_conflict"


def test_feature_code_isolation(api, world):
    fc = api("acme").post(FC, {"feature": "pickup", "code": "*5"}).json()["id"]
    check_tenant_isolation(api, resource="feature-codes", tenant=world.acme, obj_id=fc, update={"code": "*6"},
                           create={"feature": "dnd_on"})


# --- per-user call settings ----------------------------------------------------------------------

def test_call_settings_through_the_api_bump_the_version(api, world):
    ext = extension(api, "1001")
    extension(api, "1002")
    path = f"/api/extensions/acme/{ext}/"
    body = api("acme").patch(path, {"followme_enabled": True, "followme_numbers": ["1002", "+14155550123"],
                                    "followme_delay": 8}).json()
    assert (body["followme_numbers"], body["settings_version"]) == (["1002", "+14155550123"], 1)
    assert api("acme").patch(path, {"name": "Renamed"}).json()["settings_version"] == 1  # not a call setting
    assert api("acme").patch(path, {"dnd": True, "forward_busy": "1002"}).json()["settings_version"] == 2
    bad = api("acme").patch(path, {"followme_numbers": ["1001"]})
    assert bad.status_code == 400 and "followme_numbers[0]" in fields(bad)
    # an extension someone follows (or forwards to) is in use
    second = api("acme").get("/api/extensions/acme/?number=1002").json()[0]["id"]
    assert api("acme").delete(f"/api/extensions/acme/{second}/").json()["used_by"] == [
        "extension 1001 Renamed (call forwarding)"]
