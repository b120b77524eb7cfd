"""Custom dialplan per hook point: stored per tenant, checked by the config checker, confined to
the tenant's own contexts, rendered where it runs (golden hook contexts accepted by confcheck)."""
import os
from pathlib import Path

import pytest

from apps.events.models import OutboxEvent
from apps.hooks import services as hooks
from apps.pbx.render import render_server
from apps.pbx.render.confcheck import find_extension, parse_dialplan, references, validate
from tests.helpers.isolation import check_tenant_isolation
from tests.pbx.golden.demo import build_demo
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
BASE = "/api/custom-dialplans/acme/"
GOLDEN = Path(__file__).parent / "golden" / "hooks.conf"

TAGGING = """\
; tag calls from the CRM's VIP list
exten => s,1,NoOp(inbound ${ARG1} from ${CALLERID(num)})
 same => n,Set(CDR(userfield)=vip)
 same => n,GotoIf($["${CALLERID(num)}" = "+15559876543"]?acme-ivr-1,s,1)
 same => n,Return()
"""
OUTBOUND = """\
exten => s,1,ExecIf($["${LEN(${ARG1})}" < 3]?Hangup())
 same => n,Return()
"""


def post(api, point="inbound_did", dialplan=TAGGING, key="acme"):
    return api(key).post(BASE, {"point": point, "dialplan": dialplan, "description": "CRM tagging"})


def refused(response, code, line):
    assert response.status_code == 400, response.content
    body = response.json()
    assert codes(response) == code and "dialplan" in fields(response)
    assert body["detail"].startswith(f"Line {line}:"), body["detail"]
    return body["detail"]


@pytest.fixture
def demo(world, system_actor):
    return build_demo(system_actor, world)


def test_custom_dialplans_run_before_dids_and_routes_and_pass_the_checker(api, demo, settings):
    server, objects = demo
    assert post(api).status_code == 201
    assert post(api, "outbound_route", OUTBOUND).status_code == 201
    settings.PBX_AGI_URL = "agi://10.0.0.5:4573"
    files = render_server(server).files
    assert validate(files) == []
    contexts, _ = parse_dialplan(files["extensions.conf"])
    did = [(p.app, p.args) for p in find_extension(contexts, "acme-from-did", "+14155550100")]
    # After the caller look-up, right before the DID's own destination (its time condition).
    assert did[-2:] == [("Gosub", "acme-custom-did,s,1(${EXTEN})"), ("Goto", "acme-tc-1,s,1")]
    assert did.index(("Gosub", "acme-custom-did,s,1(${EXTEN})")) > [a for a, _ in did].index("AGI")
    route = find_extension(contexts, f"acme-outrt-{objects['acme']['trunks'][0].pk}", "933") or \
        find_extension(contexts, "acme-external", "+14155550199")
    assert ("Gosub", "acme-custom-out,s,1(${EXTEN})") in [(p.app, p.args) for p in route]
    # globex has no hooks: none of its calls runs acme's lines, and acme's lines reach only acme.
    assert not any(p.app == "Gosub" for p in find_extension(contexts, "globex-from-did", "+12125550199"))
    for source, kind, target in references(contexts):
        if source.startswith("acme-custom"):
            assert target.startswith("acme-"), (source, kind, target)
    section = _sections(files["extensions.conf"], ("[acme-custom-did]", "[acme-custom-out]"))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(section)
    assert section == GOLDEN.read_text()


def _sections(text: str, names) -> str:
    out, keep = [], False
    for line in text.splitlines():
        if line.startswith(("[", "; ----------")):
            keep = line in names
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


def test_syntax_the_checker_refuses_names_the_line(api, demo):
    refused(post(api, dialplan="exten => s,1,NoOp(a)\n same => n,Goto(\n"), "invalid_dialplan", 2)
    refused(post(api, dialplan="[acme-internal]\nexten => s,1,NoOp()"), "invalid_dialplan", 1)
    refused(post(api, dialplan="#include /etc/passwd\nexten => s,1,NoOp()"), "invalid_dialplan", 1)
    refused(post(api, dialplan="exten => s,1,NoOp()\nexten => s,1,NoOp()"), "invalid_dialplan", 2)
    assert "dialplan" in fields(post(api, dialplan="; only a comment\n"))


def test_dangerous_applications_and_functions_are_refused(api, demo):
    refused(post(api, dialplan="exten => s,1,System(rm -rf /)"), "invalid_dialplan", 1)
    refused(post(api, dialplan="exten => s,1,NoOp()\n same => n,SoftHangup(PJSIP/1001-globex)"),
            "invalid_dialplan", 2)
    refused(post(api, dialplan="exten => s,1,NoOp(${SHELL(id)})"), "invalid_dialplan", 1)
    refused(post(api, dialplan="exten => s,1,ExecIf(1?Dial(PJSIP/1001-globex))"), "invalid_dialplan", 1)
    refused(post(api, dialplan="exten => s,1,Set(x=${DB_EXISTS(globex/dnd)})"), "invalid_dialplan", 1)


def test_what_the_api_stores_never_fails_the_servers_push(api, demo):
    """Hand check against Asterisk 22.10.1: Playtones() (an allowed application; Asterisk finds
    applications in any case) and ${QUOTE()} (an allowed function) were stored by the API and then
    refused by the push's application/function check, so no push to the server went through."""
    server, _ = demo
    text = "exten => s,1,Playtones(ring)\n same => n,Set(X=${QUOTE(${ARG1})})\n same => n,Return()\n"
    assert post(api, "outbound_route", text).status_code == 201
    assert validate(render_server(server).files) == []
    # What the push's check refuses is refused here, with its line, and nothing is stored:
    # ARG1 is a variable, not a function (the grammar lets ${ARG1(...)} through).
    detail = refused(post(api, dialplan="exten => s,1,NoOp()\n same => n,Set(X=${ARG1(1)})"), "invalid_dialplan", 2)
    assert "ARG1() is not an Asterisk 22 function" in detail
    assert validate(render_server(server).files) == []


def test_applications_in_any_case_as_asterisk_takes_them_and_their_jumps_still_checked(api, demo):
    """Asterisk finds applications in any case (pbx_findapp: strcasecmp) and lists PlayTones and
    BackGround so: both spellings are taken; a jump in any case is still checked, and functions
    are exact (Asterisk finds ${cut()} nowhere)."""
    server, _ = demo
    text = ("exten => s,1,PlayTones(ring)\n same => n,BackGround(beep)\n same => n,playback(beep)\n"
            " same => n,GOTOIF($[${LEN(${ARG1})} < 3]?s,1)\n same => n,RETURN()\n")
    assert post(api, "outbound_route", text).status_code == 201, text
    assert validate(render_server(server).files) == []
    for line in ("GOTO(globex-internal,1001,1)", "gosub(globex-internal,1001,1)", "gOtOiF($[1]?globex-ivr-1,s,1)",
                 "EXECIF(1?GOTO(globex-ivr-1,s,1))", "ExecIf(1?goto(globex-ivr-1,s,1))"):
        detail = refused(post(api, dialplan=f"exten => s,1,NoOp()\n same => n,{line}"), "foreign_context", 2)
        assert "globex-" in detail, line
    refused(post(api, dialplan="exten => s,1,NOOP()\n same => n,goto(s,99)"), "reference_not_found", 2)
    refused(post(api, dialplan="exten => s,1,NoOp(${len(x)})"), "invalid_dialplan", 1)
    refused(post(api, dialplan="exten => s,1,system(id)"), "invalid_dialplan", 1)


def test_jumps_into_another_tenants_contexts_are_refused(api, demo):
    detail = refused(post(api, dialplan="exten => s,1,NoOp()\n same => n,Goto(globex-internal,1001,1)"),
                     "foreign_context", 2)
    assert "globex-internal" in detail
    refused(post(api, dialplan="exten => s,1,Return()\ninclude => globex-extensions"), "foreign_context", 2)
    refused(post(api, dialplan="exten => s,1,GotoIf($[1]?globex-from-did,+12125550199,1)"), "foreign_context", 1)
    refused(post(api, dialplan="exten => s,1,ExecIf(1?Goto(globex-ivr-1,s,1))"), "foreign_context", 1)
    refused(post(api, dialplan="exten => s,1,Gosub(${CTX},s,1)"), "foreign_context", 1)
    # Even a tenant whose slug extends ours is someone else.
    refused(post(api, dialplan="exten => s,1,Goto(acme-west-internal,1001,1)"), "foreign_context", 1)


def test_jumps_to_missing_targets_of_our_own_are_refused(api, demo):
    refused(post(api, dialplan="exten => s,1,Goto(acme-extensions,9999,1)"), "reference_not_found", 1)
    refused(post(api, dialplan="exten => s,1,Goto(nowhere,s,1)"), "reference_not_found", 1)
    response = post(api, dialplan="exten => s,1,Goto(acme-extensions,1001,1)")
    assert response.status_code == 201


def test_one_custom_dialplan_per_point_and_nothing_half_written(api, demo):
    first = post(api)
    assert first.status_code == 201
    assert post(api).status_code == 409
    pk = first.json()["id"]
    bad = api("acme").patch(f"{BASE}{pk}/", {"dialplan": "exten => s,1,Goto(globex-internal,1,1)"})
    assert bad.status_code == 400
    assert api("acme").get(f"{BASE}{pk}/").json()["dialplan"] == TAGGING
    events = [e.type for e in OutboxEvent.objects.filter(type__startswith="config.custom_dialplan.")]
    assert events == ["config.custom_dialplan.created"]
    assert api("acme").patch(f"{BASE}{pk}/", {"enabled": False}).status_code == 200
    assert api("acme").delete(f"{BASE}{pk}/").status_code == 204


def test_tenant_isolation(api, world, demo):
    pk = post(api).json()["id"]
    check_tenant_isolation(api, resource="custom-dialplans", tenant=world.acme, obj_id=pk,
                           update={"enabled": False}, create={"point": "outbound_route", "dialplan": OUTBOUND})
