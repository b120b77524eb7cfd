"""The HTTP routing hook: FastAGI asks the tenant's URL (a real local HTTP server here), signed like
webhooks, and routes to what it answers, only among the tenant's own objects, within a timeout,
else to the fallback. Asterisk's side is replayed as in tests/pbx (agi-crm-lookup.jsonl's shape)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from apps.hooks import services as hooks
from apps.hooks.models import RoutingHook
from apps.pbx.agi import FastAgiServer
from apps.pbx.render import render_server
from apps.pbx.render.confcheck import find_extension, parse_dialplan, validate
from apps.telephony import services as tel
from tests.helpers.isolation import check_tenant_isolation
from tests.pbx.golden.demo import host_on, make_server
from tests.pbx.peers import FastAgiAsterisk
from tests.telephony.conftest import codes, fields

BASE = "/api/routing-hooks/acme/"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes


class Crm:
    """The integrator's endpoint: checks the signature, records the call, answers ``answer``."""

    def __init__(self):
        self.answer: object = {"destination": None}
        self.delay = 0.0
        self.requests: list[dict] = []
        crm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                crm.requests.append({"body": json.loads(body), "verified": _verified(body, headers)})
                time.sleep(crm.delay)
                payload = json.dumps(crm.answer).encode() if not isinstance(crm.answer, bytes) else crm.answer
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/route"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


def _verified(body, headers) -> bool:
    try:
        Webhook(SECRET).verify(body, headers)
        return True
    except Exception:
        return False


@pytest.fixture
def crm(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = Crm()
    yield server
    server.close()


@pytest.fixture
def agi():
    with FastAgiServer("127.0.0.1", 0, env_timeout=2, command_timeout=2) as server:
        yield server


def env(world, hook_id, did="+14155550100"):
    return {"agi_network": "yes", "agi_network_script": f"routing-hook?tenant=acme&hook={hook_id}",
            "agi_request": f"agi://127.0.0.1:4573/routing-hook?tenant=acme&hook={hook_id}",
            "agi_channel": "PJSIP/acme-trunk-1-00000001", "agi_language": "en", "agi_type": "PJSIP",
            "agi_uniqueid": "1795750899.47", "agi_version": "22.10.1", "agi_callerid": "+15559876543",
            "agi_calleridname": "Jane Doe", "agi_context": "acme-rhook", "agi_extension": "s",
            "agi_priority": "4", "agi_arg_1": did}


def call(agi_server, environment) -> dict:
    """Asterisk's side: answer every command as Asterisk 22 does, collect the variables set."""
    result = FastAgiAsterisk(*agi_server.address).session(environment, lambda line: b"200 result=1\n")
    assert result.errors == [] and result.closed_by_server
    variables = {}
    for line in result.received:
        text = line.decode().rstrip("\n")
        if text.startswith("SET VARIABLE "):
            name, value = text[len("SET VARIABLE "):].split(" ", 1)
            variables[name] = json.loads(value)
    return variables


@pytest.fixture
def acme_objects(committed_world, system_actor):
    acme = committed_world.acme
    alice = tel.extension_create(actor=system_actor, tenant=acme, number="1001", name="Alice")
    sales = tel.queue_create(actor=system_actor, tenant=acme, number="2000", name="Sales")
    did = tel.did_create(actor=system_actor, tenant=acme, number="+14155550100",
                         dest={"type": "extension", "id": alice.pk})
    theirs = tel.queue_create(actor=system_actor, tenant=committed_world.globex, number="2999", name="Theirs")
    group = tel.ring_group_create(actor=system_actor, tenant=acme, number="5200", name="Desk",
                                  members=[{"extension": alice.pk}], no_answer={"type": "hangup"})
    room = tel.conference_create(actor=system_actor, tenant=acme, number="5300", name="Room")
    paging = tel.paging_group_create(actor=system_actor, tenant=acme, number="5500", name="Floor",
                                     members=[alice.pk])
    return {"alice": alice, "sales": sales, "did": did, "their_queue": theirs, "group": group, "room": room,
            "paging": paging}


def make_hook(system_actor, world, crm, **fields):
    return hooks.routing_hook_create(actor=system_actor, tenant=world.acme, name="crm-router", url=crm.url,
                                     secret=SECRET, **fields)


@pytest.mark.django_db(transaction=True)
def test_the_hook_is_called_signed_with_the_call_and_routes_to_its_answer(committed_world, system_actor,
                                                                          acme_objects, crm, agi):
    hook = make_hook(system_actor, committed_world, crm, timeout_ms=1500)
    crm.answer = {"destination": {"type": "queue", "id": acme_objects["sales"].pk}}
    variables = call(agi, env(committed_world, hook.pk))
    assert variables == {"TL_ROUTE": f"acme-queue-{acme_objects['sales'].pk},s,1", "TL_ROUTE_STATUS": "ok"}
    [request] = crm.requests
    assert request["verified"] is True  # Standard Webhooks signature with the hook's secret
    body = request["body"]
    assert (body["type"], body["tenant"], body["hook"]) == ("routing.request", "acme", hook.pk)
    assert body["call"]["did"] == "+14155550100" and body["call"]["caller_number"] == "+15559876543"
    assert body["call"]["caller_name"] == "Jane Doe" and body["call"]["time"]

    crm.answer = {"destination": {"type": "voicemail", "id": acme_objects["alice"].pk}}
    assert call(agi, env(committed_world, hook.pk)) == {"TL_ROUTE": "acme-rhook,vm,1", "TL_ROUTE_BOX": "1001",
                                                        "TL_ROUTE_STATUS": "ok"}
    crm.answer = {"destination": {"type": "external", "number": "+14155550123"}}
    assert call(agi, env(committed_world, hook.pk))["TL_ROUTE"] == "acme-external,+14155550123,1"
    crm.answer = {"destination": None}
    assert call(agi, env(committed_world, hook.pk)) == {"TL_ROUTE_STATUS": "continue"}


@pytest.mark.django_db(transaction=True)
def test_another_tenants_object_a_bad_answer_or_a_slow_url_take_the_fallback(committed_world, system_actor,
                                                                             acme_objects, crm, agi):
    hook = make_hook(system_actor, committed_world, crm, timeout_ms=300,
                     fallback={"type": "queue", "id": acme_objects["sales"].pk})
    # globex's queue id does not name an acme object: never routed there.
    crm.answer = {"destination": {"type": "queue", "id": acme_objects["their_queue"].pk + 100}}
    assert call(agi, env(committed_world, hook.pk)) == {"TL_ROUTE_STATUS": "failed"}
    for answer in (b"not json", {"route": "x"}, {"destination": "acme-internal,1001,1"},
                   {"destination": {"type": "extension", "id": 999999}}):
        crm.answer = answer
        assert call(agi, env(committed_world, hook.pk)) == {"TL_ROUTE_STATUS": "failed"}
    crm.answer, crm.delay = {"destination": {"type": "queue", "id": acme_objects["sales"].pk}}, 1.0
    started = time.monotonic()
    assert call(agi, env(committed_world, hook.pk)) == {"TL_ROUTE_STATUS": "failed"}
    assert time.monotonic() - started < 0.9  # the call waited the hook's 300 ms, not the URL
    crm.delay = 0
    # Unknown tenant or hook: failed at once, no request made.
    before = len(crm.requests)
    assert call(agi, {**env(committed_world, hook.pk), "agi_network_script": "routing-hook?tenant=initech&hook=1"}) \
        == {"TL_ROUTE_STATUS": "failed"}
    assert call(agi, {**env(committed_world, hook.pk), "agi_network_script": "routing-hook?tenant=acme&hook=999"}) \
        == {"TL_ROUTE_STATUS": "failed"}
    assert len(crm.requests) == before


@pytest.mark.django_db(transaction=True)
def test_the_rendered_hook_context_passes_the_checker(committed_world, system_actor, acme_objects, crm, settings):
    settings.PBX_AGI_URL = "agi://10.0.0.5:4573"
    hook = make_hook(system_actor, committed_world, crm, fallback={"type": "queue", "id": acme_objects["sales"].pk})
    server = make_server()
    host_on(server, committed_world.acme)
    files = render_server(server).files
    assert validate(files) == []
    contexts, _ = parse_dialplan(files["extensions.conf"])
    did = [(p.app, p.args) for p in find_extension(contexts, "acme-from-did", "+14155550100")]
    gosub = did.index(("Gosub", "acme-rhook,s,1(${EXTEN})"))
    assert did[gosub + 1] == ("GotoIf", '$["${TL_ROUTE}" != ""]?${TL_ROUTE}')
    assert did[gosub + 2] == ("GotoIf", '$["${TL_ROUTE_STATUS}" = "failed"]?acme-rhook,fallback,1')
    assert did[-1][0] == "Goto" and did[-1][1].startswith("acme-extensions,")  # "continue": the DID's own
    steps = [(p.app, p.args) for p in contexts["acme-rhook"].extensions["s"]]
    assert ("AGI", f"agi://10.0.0.5:4573/routing-hook?tenant=acme&hook={hook.pk},${{ARG1}}") in steps
    assert steps[-1] == ("Return", "")
    fallback = [(p.app, p.args) for p in contexts["acme-rhook"].extensions["fallback"]]
    assert ("Goto", f"acme-queue-{acme_objects['sales'].pk},s,1") in fallback
    assert [(p.app, p.args) for p in contexts["acme-rhook"].extensions["vm"]][0] == \
        ("VoiceMail", "${TL_ROUTE_BOX}@acme,u")
    # Every target the AGI can set exists in the rendered dialplan.
    from apps.hooks.routing import target_of
    from apps.telephony.destinations import Destination

    with tenant_context(committed_world.acme):
        for dest in (Destination("queue", acme_objects["sales"].pk), Destination("extension", acme_objects["alice"].pk),
                     Destination("voicemail", acme_objects["alice"].pk), Destination("hangup"),
                     Destination("external", None, "+14155550123"),
                     Destination("ring_group", acme_objects["group"].pk),
                     Destination("conference", acme_objects["room"].pk),
                     Destination("paging_group", acme_objects["paging"].pk)):
            ctx, exten, prio = target_of(committed_world.acme, dest)[0].split(",")
            assert find_extension(contexts, ctx, exten) is not None, dest


@pytest.mark.django_db(transaction=True)
def test_every_destination_type_the_api_takes_can_be_answered(committed_world, system_actor, acme_objects, crm,
                                                                 agi):
    """Hand check against Asterisk 22.10.1: a hook answering a conference or a paging group (both
    destinations of the API) was treated as a bad answer, and the call took the fallback."""
    from apps.telephony.destinations import DestType

    hook = make_hook(system_actor, committed_world, crm, fallback={"type": "queue", "id": acme_objects["sales"].pk})
    objects = {"extension": acme_objects["alice"].pk, "voicemail": acme_objects["alice"].pk,
               "queue": acme_objects["sales"].pk, "ring_group": acme_objects["group"].pk,
               "conference": acme_objects["room"].pk, "paging_group": acme_objects["paging"].pk}
    tc = tel.time_condition_create(actor=system_actor, tenant=committed_world.acme, name="Always",
                                   schedule=tel.schedule_create(actor=system_actor, tenant=committed_world.acme,
                                                                name="S", timezone="UTC"),
                                   match={"type": "hangup"}, no_match={"type": "hangup"})
    ivr = tel.ivr_create(actor=system_actor, tenant=committed_world.acme, name="Menu",
                         invalid={"type": "hangup"}, timeout_dest={"type": "hangup"})
    objects.update({"time_condition": tc.pk, "ivr": ivr.pk})
    expected = {"conference": f"acme-conf-{acme_objects['room'].pk},s,1",
                "paging_group": f"acme-page-{acme_objects['paging'].pk},s,1"}
    for kind in DestType.values:
        if kind == "external":
            answer = {"type": kind, "number": "+14155550123"}
        elif kind == "hangup":
            answer = {"type": kind}
        else:
            answer = {"type": kind, "id": objects[kind]}
        crm.answer = {"destination": answer}
        variables = call(agi, env(committed_world, hook.pk))
        assert variables.get("TL_ROUTE_STATUS") == "ok", (kind, variables)
        if kind in expected:
            assert variables["TL_ROUTE"] == expected[kind]


@pytest.mark.django_db
def test_routing_hooks_over_the_api(api, world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api("acme").post(BASE, {"name": "r", "url": "http://127.0.0.1:9/route"})
    assert response.status_code == 400 and codes(response) == "webhook_target_refused" and "url" in fields(response)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    theirs = tel.queue_create(actor=None or _system(), tenant=world.globex, number="2999", name="Theirs")
    with tenant_context(world.acme):
        pass
    response = api("acme").post(BASE, {"name": "r", "url": "http://127.0.0.1:9/route",
                                       "fallback_destination": {"type": "queue", "id": theirs.pk}})
    assert response.status_code == 400 and "fallback_destination" in fields(response)
    response = api("acme").post(BASE, {"name": "r", "url": "http://127.0.0.1:9/route", "secret": "nope"})
    assert response.status_code == 400 and "secret" in fields(response)
    response = api("acme").post(BASE, {"name": "r", "url": "http://127.0.0.1:9/route"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")  # shown once
    got = api("acme").get(f"{BASE}{body['id']}/").json()
    assert "secret" not in got and body["secret"] not in json.dumps(got)
    with tenant_context(world.acme):
        assert RoutingHook.objects.get().secret == body["secret"]
    # One enabled routing hook per tenant: every inbound DID call asks it.
    assert api("acme").post(BASE, {"name": "r2", "url": "http://127.0.0.1:9/x"}).status_code == 409
    assert api("acme").post(BASE, {"name": "r2", "url": "http://127.0.0.1:9/x", "enabled": False}).status_code == 201
    check_tenant_isolation(api, resource="routing-hooks", tenant=world.acme, obj_id=body["id"],
                           update={"timeout_ms": 500}, create={"name": "x", "url": "http://127.0.0.1:9/y",
                                                               "enabled": False})


def _system():
    from apps.accounts.principal import Principal

    return Principal.system("tests")
