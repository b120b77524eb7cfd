"""Feature codes through FastAGI (issue 12): Asterisk's side is played by the FastAGI peer, in the
wire format of the recorded session (shared/fixtures/asterisk-22/agi-crm-lookup.*): the agi_*
environment ending with an empty line, one LF-terminated command per line, ``200 result=1``
answers. The portal's handler changes the database through the services, writes AstDB and
answers TL_FC; the API then reads the new settings back, and a render agrees with AstDB."""
from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.pbx.agi import FastAgiServer, registry
from apps.telephony import services as tel
from apps.telephony.models import Extension
from apps.tenants.models import Tenant
from tests.conftest import ApiClient

from .peers import FastAgiAsterisk, load_transcript

pytestmark = pytest.mark.django_db(transaction=True)


def recorded_env(**overrides) -> dict[str, str]:
    """The environment block of the recorded session, re-aimed at ``feature-code``."""
    env = {}
    first = load_transcript("agi-crm-lookup").entries[0].data.decode()
    for line in first.split("\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            env[key] = value
    env = {k: v for k, v in env.items() if not k.startswith("agi_arg_")}
    env.update(overrides)
    return env


def dial(server, tenant: str, feature: str, extension: str, argument: str = "", answer=None):
    """Asterisk runs AGI(agi://.../feature-code?tenant=<t>,<feature>,<ext>,<argument>)."""
    env = recorded_env(agi_network_script=f"feature-code?tenant={tenant}",
                       agi_request=f"agi://127.0.0.1:4573/feature-code?tenant={tenant}",
                       agi_context=f"{tenant}-features", agi_arg_1=feature, agi_arg_2=extension, agi_arg_3=argument)
    peer = FastAgiAsterisk(*server.address)
    return peer.session(env, answer or (lambda line: b"200 result=1\n"))


@pytest.fixture
def agi_server():
    with FastAgiServer("127.0.0.1", 0, registry=registry, env_timeout=2, command_timeout=2) as srv:
        yield srv


@pytest.fixture
def acme_phone(committed_world, system_actor):
    ext = tel.extension_create(actor=system_actor, tenant=committed_world.acme, number="1001", name="Alice",
                               sip_secret="Alice-Sip-Secret-9xZ")
    tel.extension_create(actor=system_actor, tenant=committed_world.acme, number="1002", name="Bob",
                         sip_secret="Bob-Sip-Secret-9xZq")
    return ext


def lines(result) -> list[str]:
    return [line.decode().rstrip("\n") for line in result.received]


def test_dnd_on_by_code_updates_the_database_astdb_and_reads_back(committed_world, agi_server, acme_phone):
    result = dial(agi_server, "acme", "dnd_on", "1001")
    assert result.errors == [] and result.closed_by_server
    assert lines(result) == ['DATABASE PUT TL "acme/1001" "1:1::::0"', 'SET VARIABLE TL_FC "ok"']
    with tenant_context(committed_world.acme):
        ext = Extension.objects.get(number="1001")
        assert (ext.dnd, ext.settings_version) == (True, 1)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).exists()
    event = OutboxEvent.objects.filter(type="config.extension.updated").latest("pk")
    assert event.data["dnd"] is True and event.data["settings_version"] == 1
    body = ApiClient(committed_world.keys["acme"]).get(f"/api/extensions/acme/{ext.pk}/").json()
    assert (body["dnd"], body["settings_version"]) == (True, 1)


def test_forward_set_and_clear_by_code(committed_world, agi_server, acme_phone):
    assert lines(dial(agi_server, "acme", "cf_always_set", "1001", "1002"))[0] == \
        'DATABASE PUT TL "acme/1001" "1:0:1002:::0"'
    assert lines(dial(agi_server, "acme", "cf_busy_set", "1001", "4155550123"))[0] == \
        'DATABASE PUT TL "acme/1001" "2:0:1002:+14155550123::0"'
    assert lines(dial(agi_server, "acme", "cf_always_clear", "1001"))[0] == \
        'DATABASE PUT TL "acme/1001" "3:0::+14155550123::0"'
    body = ApiClient(committed_world.keys["acme"]).get(f"/api/extensions/acme/{acme_phone.pk}/").json()
    assert (body["forward_always"], body["forward_busy"], body["settings_version"]) == ("", "+14155550123", 3)


def test_refused_codes_answer_error_and_change_nothing(committed_world, agi_server, acme_phone):
    for feature, ext, arg in [("cf_always_set", "1001", "1001"),  # to itself
                              ("cf_always_set", "1001", "12"),  # neither internal nor a phone number
                              ("followme_toggle", "1001", ""),  # no follow-me numbers yet
                              ("dnd_on", "9999", ""),  # no such extension
                              ("agent_login", "1001", ""),  # not an agent
                              ("no_such_feature", "1001", "")]:
        sent = lines(dial(agi_server, "acme", feature, ext, arg))
        assert sent[-1] == 'SET VARIABLE TL_FC "error"', feature
        assert not any(line.startswith("DATABASE") for line in sent), feature
    assert lines(dial(agi_server, "nosuch", "dnd_on", "1001"))[-1] == 'SET VARIABLE TL_FC "error"'
    with tenant_context(committed_world.acme):
        assert Extension.objects.get(number="1001").settings_version == 0


def test_a_tenant_code_never_reaches_another_tenants_extension(committed_world, agi_server, acme_phone,
                                                             system_actor):
    tel.extension_create(actor=system_actor, tenant=committed_world.globex, number="1001", name="G",
                         sip_secret="Globex-Sip-Secret-9x")
    dial(agi_server, "globex", "dnd_on", "1001")
    with tenant_context(committed_world.acme):
        assert Extension.objects.get(number="1001").dnd is False
    with tenant_context(committed_world.globex):
        assert Extension.objects.get(number="1001").dnd is True


def test_a_code_and_a_later_push_agree(committed_world, agi_server, acme_phone, system_actor):
    """What the code wrote to AstDB and what the next push renders are the same string, so the
    dialplan's version check keeps the newest whichever the PBX has (restart, push, both)."""
    from apps.pbx.render import render_server
    from tests.pbx.golden.demo import host_on, make_server

    put = lines(dial(agi_server, "acme", "dnd_toggle", "1001"))[0]
    server = make_server()
    host_on(server, committed_world.acme)
    rendered = render_server(server).files["extensions.conf"]
    value = put.rsplit(" ", 1)[1].strip('"')
    assert f"Gosub(acme-settings,s,1(1001,{value}))" in rendered
    # An API change after the code: a newer version, rendered by the next push.
    tel.extension_update(actor=system_actor, tenant=committed_world.acme, instance=_ext(committed_world), dnd=False)
    rendered = render_server(server).files["extensions.conf"]
    assert "Gosub(acme-settings,s,1(1001,2:0::::0))" in rendered


def _ext(world):
    with tenant_context(world.acme):
        return Extension.objects.get(number="1001")


def test_agent_codes_per_queue(committed_world, agi_server, acme_phone, system_actor):
    """*61 + queue logs the caller's agent into that queue alone; *62 + queue out of it, and out
    of everything once no queue is left; *61 alone logs it into every queue again."""
    from apps.pbx import contact_center
    from apps.telephony.models import Agent, QueueMember
    from tests.pbx.golden.demo import host_on, make_server

    tenant = committed_world.acme
    host_on(make_server(), tenant)  # logging in needs the PBX that will ring the agent
    agent = tel.agent_create(actor=system_actor, tenant=tenant, name="Alice", login_code="501",
                             extension=acme_phone.pk)
    for number in ("2000", "2001"):
        tel.queue_create(actor=system_actor, tenant=tenant, number=number, name=f"Q{number}",
                         members=[{"agent": agent.pk}])

    def state():
        with tenant_context(tenant):
            flags = dict(QueueMember.objects.filter(agent=agent).values_list("queue__number", "signed_out"))
            return Agent.objects.get(pk=agent.pk).state, flags

    def planned(action):
        with tenant_context(tenant):
            fresh = Agent.objects.select_related("extension").get(pk=agent.pk)
            return [a.queue for a in contact_center.planned_actions(tenant, fresh, action)]

    assert lines(dial(agi_server, "acme", "agent_login", "1001", "2001"))[-1] == 'SET VARIABLE TL_FC "ok"'
    assert state() == ("logged_in", {"2000": True, "2001": False})
    assert planned("pause") == ["acme-2001"]  # only where it is signed in
    from apps.pbx.render import render_server

    server = Tenant.objects.get(pk=tenant.pk).primary_server
    plan = contact_center.expected_members(render_server(server).views)  # what a push syncs
    assert ([m.interface for m in plan["acme-2000"]], [m.interface for m in plan["acme-2001"]]) == (
        [], ["PJSIP/1001-acme"])
    assert lines(dial(agi_server, "acme", "agent_login", "1001", "2000"))[-1] == 'SET VARIABLE TL_FC "ok"'
    assert state() == ("logged_in", {"2000": False, "2001": False})
    dial(agi_server, "acme", "agent_logout", "1001", "2000")
    assert state() == ("logged_in", {"2000": True, "2001": False})
    dial(agi_server, "acme", "agent_logout", "1001", "2001")
    assert state() == ("logged_out", {"2000": True, "2001": True})
    assert lines(dial(agi_server, "acme", "agent_login", "1001", "9999"))[-1] == 'SET VARIABLE TL_FC "error"'
    dial(agi_server, "acme", "agent_login", "1001")  # every queue
    assert state() == ("logged_in", {"2000": False, "2001": False})
