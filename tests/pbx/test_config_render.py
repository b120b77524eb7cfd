"""Rendering a server's configuration: validity, structure against the recorded fixture config,
tenant isolation parsed from the output, hostile input, determinism and query counts."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.pbx.render import FILES, loader, names, render_server
from apps.pbx.render.confcheck import parse, parse_dialplan, pjsip_objects, references, validate
from apps.telephony import services as tel
from apps.telephony.models import Extension
from apps.tenants.services import tenant_create
from tests.pbx.golden.demo import build_demo, ext, host_on, make_server
from tests.pbx.peers import fixtures_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(world, system_actor):
    server, objects = build_demo(system_actor, world)
    return server, objects, render_server(server)


def test_demo_renders_a_valid_configuration(demo):
    _, _, rendered = demo
    assert sorted(rendered.files) == sorted(FILES)
    assert validate(rendered.files) == []
    assert rendered.tenants == ["acme", "globex"]


def test_the_validator_catches_what_asterisk_would_refuse_or_misroute(demo):
    _, _, rendered = demo
    broken = dict(rendered.files)
    broken["extensions.conf"] = broken["extensions.conf"].replace("Goto(acme-queue-1,s,1)", "Goto(acme-queue-9,s,1)", 1)
    broken["pjsip.conf"] += "\n[1001-acme](tl-phone)\ncontext = acme-internal\n"
    broken["queues.conf"] += "\n[acme-2000]\nstrategy = ringall\n"
    problems = "\n".join(validate(broken))
    assert "acme-queue-9,s,1: no such context" in problems
    assert "duplicate endpoint 1001-acme" in problems
    assert "queue acme-2000 defined twice" in problems
    assert validate({**rendered.files, "extensions.conf": "exten => 1,1,NoOp()\n"})  # before any [section]
    assert validate({**rendered.files, "extensions.conf": "[x]\n same => n,NoOp()\n"})


def test_structure_matches_the_recorded_fixture_configuration(demo):
    """The objects Asterisk 22 loaded in the recordings look like ours: same section kinds,
    endpoint/auth/aor triples named <ext>-<tenant>, exten/same priorities, member lines."""
    _, _, rendered = demo
    fixture = {name: (fixtures_dir() / "conf" / name).read_text() for name in rendered.files
               if (fixtures_dir() / "conf" / name).exists()}  # the recordings used stock MOH, no conferences  # the recordings used Asterisk's stock music on hold
    assert validate(fixture) == []
    for text in (fixture, rendered.files):
        objects, errors = pjsip_objects(parse(text["pjsip.conf"]))
        assert errors == []
        kinds = {kind for (_, kind) in objects}
        assert {"global", "transport", "endpoint", "auth", "aor"} <= kinds
        endpoints = [name for (name, kind) in objects if kind == "endpoint" and not name.count("-trunk-")]
        for name in endpoints:
            assert re.fullmatch(r"\d+-[a-z][a-z0-9-]*", name)
            assert (name, "auth") in objects and (name, "aor") in objects
        contexts, errors = parse_dialplan(text["extensions.conf"])
        assert errors == []
        assert "acme-internal" in contexts and "globex-internal" in contexts
        dialled = {t for _, kind, t in references(contexts) if kind == "endpoint"}
        assert "1001-acme" in dialled
    ours, _ = parse_dialplan(rendered.files["extensions.conf"])
    dials = [p for p in ours["acme-extensions"].extensions["1001"] if p.app == "Dial"]
    assert [p.args for p in dials] == ["PJSIP/1001-acme,20"]


# --- isolation -----------------------------------------------------------------------------------

SUFFIX = re.compile(rf"({'|'.join(names.FIXED_CONTEXTS)}|({'|'.join(names.ID_CONTEXTS)})-\d+)")


def owner(name: str, slugs: list[str], kind: str = "") -> str | None:
    """The tenant a context, endpoint or queue belongs to, by the naming grammar (voicemail
    contexts, a namespace of their own, are the bare slug)."""
    if kind == "voicemail":
        return name if name in slugs else None
    found = set()
    for slug in slugs:
        rest = name[len(slug) + 1:] if name.startswith(slug + "-") else None
        if rest is not None and (SUFFIX.fullmatch(rest) or re.fullmatch(r"trunk-\d+|\d+", rest)):
            found.add(slug)
        if re.fullmatch(rf"\d+-{re.escape(slug)}", name):
            found.add(slug)
    assert len(found) <= 1, f"{name} could belong to {found}"
    return found.pop() if found else None


def assert_isolated(files: dict[str, str], slugs: list[str], organization: tuple[str, ...] = ()) -> int:
    """No context reaches another tenant's, except ``<a>-intersite`` jumping into
    ``<b>-extensions`` when a and b are both in ``organization``."""
    contexts, errors = parse_dialplan(files["extensions.conf"])
    assert errors == []
    checked = 0
    for ctx in contexts:
        assert owner(ctx, slugs) is not None, f"context {ctx} belongs to no tenant"
    for ctx, kind, target in references(contexts):
        if kind == "nested" or "${" in target and "@" not in target:
            continue
        target = target.split("@")[-1] if kind == "voicemail" else target
        source_owner, target_owner = owner(ctx, slugs), owner(target, slugs, kind)
        if source_owner != target_owner:
            assert (kind == "context" and ctx == f"{source_owner}-intersite" and target == f"{target_owner}-extensions"
                    and source_owner in organization and target_owner in organization), f"{ctx} reaches {kind} {target}"
        checked += 1
    objects, _ = pjsip_objects(parse(files["pjsip.conf"]))
    for (name, kind), section in objects.items():
        for ctx in section.get("context"):
            assert owner(ctx, slugs) == owner(name, slugs), f"endpoint {name} lands in {ctx}"
            checked += 1
    return checked


def test_no_tenant_context_reaches_another_tenant(demo):
    _, _, rendered = demo
    assert assert_isolated(rendered.files, ["acme", "globex"]) > 40


def test_tenants_whose_slugs_prefix_each_other_do_not_collide(world, system_actor):
    """acme-tc-1 is a tenant here, and acme has a time condition 1 (context acme-tc-1-...?)."""
    server, _ = build_demo(system_actor, world)
    tricky = tenant_create(actor=system_actor, slug="acme-tc-1", name="Tricky", reseller=world.reseller)
    host_on(server, tricky)
    ext(system_actor, tricky, "1001", "Tricky One")
    queue = tel.queue_create(actor=system_actor, tenant=tricky, number="2000", name="Q")
    rendered = render_server(server)
    assert validate(rendered.files) == []
    assert assert_isolated(rendered.files, ["acme", "globex", "acme-tc-1"]) > 40
    contexts, _ = parse_dialplan(rendered.files["extensions.conf"])
    assert {"acme-tc-1", "acme-tc-1-internal", f"acme-tc-1-queue-{queue.pk}"} <= set(contexts)
    assert owner("acme-tc-1", ["acme", "acme-tc-1"]) == "acme"  # acme's time condition 1


def test_names_are_unique_by_construction():
    """Within each namespace (dialplan contexts, PJSIP objects, queues) no two tenants can make
    the same name, even with slugs built to look like another tenant's suffixes."""
    slugs = ["a1", "a1-ivr", "a1-ivr-1", "a1-tc", "a1-from", "a1-from-did", "a1-trunk-2", "a1-2000", "a1-outrt"]
    for namespace in ("context", "pjsip", "queue"):
        made = {}
        for slug in slugs:
            if namespace == "context":
                candidates = [names.context(slug, k) for k in names.FIXED_CONTEXTS]
                candidates += [names.context(slug, k, i) for k in names.ID_CONTEXTS for i in (1, 2, 2000)]
            elif namespace == "pjsip":
                candidates = [names.trunk(i, slug) for i in (1, 2)] + [names.endpoint(n, slug) for n in ("1", "2000")]
            else:
                candidates = [names.queue(n, slug) for n in ("1", "2000")]
            for name in candidates:
                assert made.setdefault(name, slug) == slug, f"{namespace} {name} made for {made[name]} and {slug}"


# --- hostile input, determinism, suspended tenants --------------------------------------------------

def test_hostile_names_cannot_inject_dialplan_or_config(demo, world, system_actor):
    server, objects, rendered = demo
    assert "${SHELL" not in rendered.files["extensions.conf"] and "${SHELL" not in rendered.files["pjsip.conf"]
    # Straight to the table: the renderer must be safe whatever the services let through.
    with tenant_context(world.acme):
        Extension.objects.filter(pk=objects["acme"]["alice"].pk).update(
            name='Eve"; [evil]\ncontext=globex-internal', caller_id_name="x) ,Dial(PJSIP/1001-globex",
            email="a@b.c,|x", forward_busy="1001-globex")
    files = render_server(server).files
    assert validate(files) == []
    assert "[evil]" not in files["pjsip.conf"]
    assert 'callerid = "x Dial PJSIP/1001-globex" <1001>' in files["pjsip.conf"]
    assert "NoOp(acme: 1001 Eve evil context globex-internal)" in files["extensions.conf"]
    assert_isolated(files, ["acme", "globex"])


def test_rendering_is_deterministic(demo):
    server, _, rendered = demo
    again = render_server(server)
    assert again.files == rendered.files and again.checksum == rendered.checksum


def test_suspended_tenants_and_other_servers_tenants_are_left_out(demo, world, system_actor):
    from apps.tenants.services import tenant_suspend

    server, _, _ = demo
    tenant_suspend(actor=system_actor, tenant=world.globex)
    rendered = render_server(server)
    assert rendered.tenants == ["acme"] and "globex" not in rendered.files["pjsip.conf"]
    other = make_server(name="pbx-other")
    assert render_server(other).tenants == []
    assert validate(render_server(other).files) == []


def test_disabled_objects_and_dangling_destinations_render_safely(demo, world, system_actor):
    server, objects, _ = demo
    tel.extension_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["bob"], enabled=False)
    files = render_server(server).files
    assert validate(files) == []
    assert "1002-acme" not in files["pjsip.conf"]
    # The IVR option and the queue member that pointed at Bob no longer reach him.
    assert "Goto(acme-extensions,1002,1)" not in files["extensions.conf"]
    assert "destination extension" in files["extensions.conf"]


# --- queries -------------------------------------------------------------------------------------

def count_render_queries(server) -> int:
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        render_server(server)
    return len([q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")])


def test_query_count_does_not_grow_with_extensions_or_tenants(world, system_actor):
    server, _ = build_demo(system_actor, world)
    few = count_render_queries(server)
    with tenant_context(world.acme):
        Extension.objects.bulk_create([Extension(number=f"{n}", name=f"Bulk {n}", sip_secret="Bulk-Secret-x9Y")
                                       for n in range(5000, 5300)])
    host_on(server, world.initech)
    assert count_render_queries(server) == few
    assert few == len(loader.TABLES) + 2  # 1 for the tenants + 1 per table (UNION ALL over every tenant's schema) + 1 for site codes


def test_inbound_numbers_are_made_e164_for_the_tenants_region():
    from apps.pbx.render.confcheck import pattern_regex
    from apps.pbx.render.dialplan import _normalise

    def e164(region, dialled):
        for pattern, template in _normalise(region):
            if pattern_regex(pattern).match(dialled):
                return template.replace("${EXTEN:3}", dialled[3:]).replace("${EXTEN:2}", dialled[2:]) \
                    .replace("${EXTEN:1}", dialled[1:]).replace("${EXTEN}", dialled)

    assert e164("US", "4155550100") == "+14155550100"
    assert e164("US", "14155550100") == "+14155550100"
    assert e164("US", "011442071838750") == "+442071838750"
    assert e164("DE", "030901820") == "+4930901820"
    assert e164("DE", "00442071838750") == "+442071838750"
    assert e164("DE", "+4930901820") == "+4930901820"


def test_union_all_loader_reads_what_each_schema_holds(demo, world):
    """One statement over every schema gives the same rows as reading each schema on its own."""
    from apps.pbx.render import loader

    server, _, _ = demo
    tenants = loader.tenants_of_server(server.pk)
    together = loader.load(tenants)
    alone = loader.load(tenants, chunk=1)
    assert [d.rows for d in together] == [d.rows for d in alone]
    acme = together[0]
    assert acme.tenant.slug == "acme" and len(acme.rows["extensions"]) == 3
    assert acme.rows["extensions"][0]["sip_secret"].startswith("Demo-acme-Sip")  # decrypted
    assert sorted(r["number"] for r in together[1].rows["extensions"]) == ["1001", "1002"]


def test_rows_written_around_the_services_cannot_break_a_servers_push(demo, world):
    """Bad identifiers are left out (and reported); everything else still renders and validates."""
    from apps.telephony.models import Did, OutboundRoute, Queue, Trunk

    server, objects, _ = demo
    with tenant_context(world.acme):
        Extension.objects.filter(pk=objects["acme"]["carol"].pk).update(number="10,3)")
        Queue.objects.filter(pk=objects["acme"]["sales"].pk).update(strategy="bogus", number="")
        Did.objects.update(number="+1415;555")
        OutboundRoute.objects.filter(name="Local").update(dial_patterns=["_[12", "_9nxxNXXXXXX", "9;1"])
        Trunk.objects.filter(name="carrier-b").update(codecs=["ulaw", "evil;codec"])
    rendered = render_server(server)
    assert validate(rendered.files) == []
    assert len(rendered.skipped) == 3
    assert "exten => _9nxxNXXXXXX,1" in rendered.files["extensions.conf"]
    assert "_[12" not in rendered.files["extensions.conf"] and "evil" not in rendered.files["pjsip.conf"]
    assert_isolated(rendered.files, ["acme", "globex"])


def test_organization_members_dial_each_other_by_site_code_and_nobody_else(demo, world, system_actor):
    """Inter-site dialing: site code + extension reaches a member's extensions (not its trunks),
    with the caller's own site code in front of its number; a tenant outside gets nothing."""
    from apps.organizations.services import organization_create, organization_member_add

    server, _, _ = demo
    host_on(server, world.initech)
    org = organization_create(actor=system_actor, name="Acme Group", slug="acme-group", reseller=world.reseller)
    organization_member_add(actor=system_actor, organization=org, tenant=world.acme, site_code="21")
    organization_member_add(actor=system_actor, organization=org, tenant=world.globex, site_code="22")
    rendered = render_server(server)
    assert validate(rendered.files) == []
    contexts, _ = parse_dialplan(rendered.files["extensions.conf"])
    acme = contexts["acme-intersite"]
    assert "acme-intersite" in contexts["acme-internal"].includes
    assert set(acme.extensions) == {"_21XXXX", "_22XXXX"}
    to_globex = [(p.app, p.args) for p in acme.extensions["_22XXXX"]]
    assert to_globex == [("Set", "CALLERID(num)=21${CALLERID(num)}"), ("Goto", "globex-extensions,${EXTEN:2},1")]
    assert [(p.app, p.args) for p in acme.extensions["_21XXXX"]] == [("Goto", "acme-extensions,${EXTEN:2},1")]
    assert "globex-intersite" in contexts and "initech-intersite" not in contexts
    assert "initech-intersite" not in contexts["initech-internal"].includes
    assert_isolated(rendered.files, ["acme", "globex", "initech"], organization=("acme", "globex"))
    # and the same check refuses the jump when the two are not in one organization
    with pytest.raises(AssertionError):
        assert_isolated(rendered.files, ["acme", "globex", "initech"])


def test_inbound_calls_look_the_caller_up_in_the_crm_when_agi_is_configured(demo, settings):
    server, _, plain = demo
    assert "crm-lookup" not in plain.files["extensions.conf"]
    settings.PBX_AGI_URL = "agi://10.0.0.5:4573"
    rendered = render_server(server)
    assert validate(rendered.files) == []
    contexts, _ = parse_dialplan(rendered.files["extensions.conf"])
    did = next(iter(v for k, v in contexts["acme-from-did"].extensions.items() if k.startswith("+")))
    assert ("AGI", "agi://10.0.0.5:4573/crm-lookup?tenant=acme,${CALLERID(num)}") in [(p.app, p.args) for p in did]
    settings.PBX_AGI_URL = "agi://evil,Dial(PJSIP/x)"
    assert "crm-lookup" not in render_server(server).files["extensions.conf"]


def test_every_destination_with_a_context_of_its_own_is_in_the_one_table():
    """The renderer and the routing hook both go through names.DESTINATION_CONTEXTS: every type
    that points at an object other than an extension has its context kind there."""
    from apps.pbx.render import names
    from apps.telephony.destinations import TARGET_MODELS, DestType

    assert set(names.DESTINATION_CONTEXTS) == set(TARGET_MODELS) - {DestType.EXTENSION, DestType.VOICEMAIL}
    assert set(names.DESTINATION_CONTEXTS.values()) <= set(names.ID_CONTEXTS)
