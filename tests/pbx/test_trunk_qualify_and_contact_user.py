"""Real-PBX findings on trunks: qualify is the trunk's own setting (off by default), and calls a
registered carrier sends to the registration's contact user (or with ``;line=``) are routed."""
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.pbx.render import render_server
from apps.pbx.render.confcheck import find_extension, parse, parse_dialplan, validate
from apps.telephony import services as tel
from tests.pbx.golden.demo import build_demo
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
TRUNKS = "/api/trunks/acme/"


def aor(files, name):
    [section] = [s for s in parse(files["pjsip.conf"]) if s.name == name and s.get("type") == ["aor"]]
    return section


def test_qualify_is_off_unless_the_trunk_asks_for_it(world, system_actor):
    server, objects = build_demo(system_actor, world)
    files = render_server(server).files
    assert validate(files) == []
    primary, backup = objects["acme"]["trunks"]
    assert aor(files, f"acme-trunk-{primary.pk}").get("qualify_frequency") == ["60"]  # asked for in the demo
    assert aor(files, f"acme-trunk-{backup.pk}").get("qualify_frequency") == ["0"]  # IP auth, default
    assert aor(files, f"globex-trunk-{objects['globex']['trunk'].pk}").get("qualify_frequency") == ["0"]
    [phone] = [s for s in parse(files["pjsip.conf"]) if s.name == "1001-acme" and s.parents == ["tl-aor"]]
    assert phone.get("qualify_frequency") == []  # phones keep the template's 60 s


def test_qualify_frequency_over_the_api(api, world):
    body = {"name": "carrier-a", "auth_type": "ip_auth", "host": "203.0.113.5"}
    response = api("acme").post(TRUNKS, body)
    assert response.status_code == 201 and response.json()["qualify_frequency"] == 0
    trunk_id = response.json()["id"]
    response = api("acme").patch(f"{TRUNKS}{trunk_id}/", {"qualify_frequency": 30})
    assert response.status_code == 200 and response.json()["qualify_frequency"] == 30
    assert OutboxEvent.objects.filter(type="config.trunk.updated").last().data["qualify_frequency"] == 30
    for bad in (-1, 86401, "often"):
        response = api("acme").patch(f"{TRUNKS}{trunk_id}/", {"qualify_frequency": bad})
        assert response.status_code == 400 and "qualify_frequency" in fields(response)


def from_trunk(files, tenant, trunk):
    contexts, errors = parse_dialplan(files["extensions.conf"])
    assert errors == []
    return contexts, f"{tenant}-from-trunk-{trunk.pk}"


def goto(prios):
    return [(p.app, p.args) for p in prios if p.app.startswith("Goto")][0]


def test_contact_user_and_line_form_reach_the_trunks_did(world, system_actor):
    server, objects = build_demo(system_actor, world)
    files = render_server(server).files
    assert validate(files) == []
    contexts, ctx = from_trunk(files, "globex", objects["globex"]["trunk"])
    for exten in ("globex2125550199", "globex2125550199;line=ab12cd34"):
        assert goto(find_extension(contexts, ctx, exten)) == ("Goto", "globex-from-did,+12125550199,1")
    # The letters are not wildcards: "x" in the user is not any digit, "n" in "line" not 2-9.
    assert find_extension(contexts, ctx, "globe52125550199") is None
    assert find_extension(contexts, ctx, "globex2125550199;li5e=ab") is None
    # Numbers still become E.164 as before.
    assert goto(find_extension(contexts, ctx, "2125550199")) == ("Goto", "globex-from-did,+1${EXTEN},1")


def test_contact_user_without_a_did_goes_to_the_trunks_destination(world, system_actor):
    server, objects = build_demo(system_actor, world)
    primary = objects["acme"]["trunks"][0]  # acme4155550100, contact-user destination: the IVR
    contexts, ctx = from_trunk(render_server(server).files, "acme", primary)
    assert goto(find_extension(contexts, ctx, "acme4155550100;line=zz")) == ("Goto", f"acme-ivr-{objects['acme']['ivr'].pk},s,1")
    tel.trunk_update(actor=system_actor, tenant=world.acme, instance=primary, inbound=None)
    contexts, ctx = from_trunk(render_server(server).files, "acme", primary)
    assert find_extension(contexts, ctx, "acme4155550100") is None  # nothing configured: not routed


def test_inbound_did_and_destination_are_the_tenants_own(api, world, system_actor):
    theirs = tel.did_create(actor=system_actor, tenant=world.globex, number="+12125550111")
    ours = tel.did_create(actor=system_actor, tenant=world.acme, number="+14155550111")
    their_ext = tel.extension_create(actor=system_actor, tenant=world.globex, number="1001", name="G")
    body = {"name": "carrier-a", "host": "sip.carrier.example", "username": "acme01", "secret": "carrier-pass-991"}
    with tenant_context(world.acme):
        missing_ext = their_ext.pk + 1000
    response = api("acme").post(TRUNKS, {**body, "inbound_did": theirs.pk + 1000})
    assert response.status_code == 400 and "inbound_did" in fields(response)
    response = api("acme").post(TRUNKS, {**body, "inbound_destination": {"type": "extension", "id": missing_ext}})
    assert response.status_code == 400 and codes(response) == "destination_not_found"
    assert "inbound_destination" in fields(response)
    response = api("acme").post(TRUNKS, {**body, "inbound_did": ours.pk,
                                         "inbound_destination": {"type": "hangup"}})
    assert response.status_code == 201, response.content
    assert response.json()["inbound_did"] == ours.pk
    assert response.json()["inbound_destination"] == {"type": "hangup"}
    # The DID a trunk routes its contact user to cannot be deleted from under it.
    response = api("acme").delete(f"/api/dids/acme/{ours.pk}/")
    assert response.status_code == 409 and codes(response) == "in_use"
