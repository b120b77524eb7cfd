"""Known calls, written through the call store exactly as the AMI listener writes them: an
inbound call on a DID answered by 1001, an outbound call through a trunk, an internal call, a
forwarded call (inbound leg and an outbound leg), and a busy outbound attempt."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django_tenants.utils import tenant_context

from apps.calls.store import persist
from apps.calls.tracker import CallState, Leg

T0 = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def leg(uniqueid, channel, kind, start, *, answered=None, ended=None, cause=16, caller="", connected="",
        endpoint="", extension=""):
    return Leg(uniqueid=uniqueid, channel=channel, kind=kind, endpoint=endpoint, extension=extension,
               caller_number=caller, connected_number=connected, started_at=at(start),
               answered_at=at(answered) if answered is not None else None, ended_at=at(ended) if ended else None,
               hangup_cause=cause if ended else None, hangup_cause_text="Normal Clearing" if cause == 16 else "Busy")


def call(tenant, linkedid, start, legs, *, end, answered=None, did="", dialled="", trunk="", agent=""):
    state = CallState(tenant, linkedid, at(start))
    for item in legs:
        state.legs[item.uniqueid] = item
    state.did, state.dialled, state.trunk, state.agent = did, dialled, trunk, agent
    state.answered_at = at(answered) if answered is not None else None
    state.human_answered = answered is not None
    state.ended_at = at(end) if end is not None else None
    return state


def known_calls(slug: str, trunk_id: int, offset: float = 0, prefix: str = "") -> list[CallState]:
    o = offset
    trunk = f"{slug}-trunk-{trunk_id}"
    return [
        # 1. inbound on +14155550100 from +14155550123, answered by 1001 after 4 s, 120 s talk
        call(slug, f"{prefix}100.1", o + 0, [
            leg(f"{prefix}100.1", f"PJSIP/{trunk}-00000001", "trunk", o + 0, answered=o + 4, ended=o + 124,
                caller="+14155550123", endpoint=trunk),
            leg(f"{prefix}100.2", f"PJSIP/1001-{slug}-00000002", "extension", o + 1, answered=o + 4, ended=o + 124,
                caller="+14155550123", extension="1001", endpoint=f"1001-{slug}"),
        ], answered=o + 4, end=o + 124, did="+14155550100", trunk=trunk),
        # 2. outbound from 1001 to (415) 555-0199 through the trunk, 60 s talk
        call(slug, f"{prefix}200.1", o + 200, [
            leg(f"{prefix}200.1", f"PJSIP/1001-{slug}-00000003", "extension", o + 200, answered=o + 200,
                ended=o + 270, caller="1001", extension="1001", endpoint=f"1001-{slug}"),
            leg(f"{prefix}200.2", f"PJSIP/{trunk}-00000004", "trunk", o + 201, answered=o + 210, ended=o + 270,
                caller="+14155550100", connected="4155550199", endpoint=trunk),
        ], answered=o + 210, end=o + 270, dialled="4155550199", trunk=trunk),
        # 3. internal 1001 -> 1002, 30 s
        call(slug, f"{prefix}300.1", o + 300, [
            leg(f"{prefix}300.1", f"PJSIP/1001-{slug}-00000005", "extension", o + 300, answered=o + 302,
                ended=o + 332, caller="1001", extension="1001", endpoint=f"1001-{slug}"),
            leg(f"{prefix}300.2", f"PJSIP/1002-{slug}-00000006", "extension", o + 300, answered=o + 302,
                ended=o + 332, caller="1001", extension="1002", endpoint=f"1002-{slug}"),
        ], answered=o + 302, end=o + 332, dialled="1002"),
        # 4. outbound attempt, busy
        call(slug, f"{prefix}400.1", o + 400, [
            leg(f"{prefix}400.1", f"PJSIP/1002-{slug}-00000007", "extension", o + 400, answered=o + 400,
                ended=o + 405, caller="1002", extension="1002", endpoint=f"1002-{slug}"),
            leg(f"{prefix}400.2", f"PJSIP/{trunk}-00000008", "trunk", o + 401, ended=o + 405, cause=17,
                caller="+14155550100", endpoint=trunk),
        ], end=o + 405, dialled="+442079460000", trunk=trunk),
    ]


@pytest.fixture
def billing(world, system_actor):
    return setup_billing(world, system_actor)


def setup_billing(world, system_actor):
    from apps.pbx.services import server_create
    from apps.telephony import services as tel
    from apps.tenants.models import Tenant

    server = server_create(actor=system_actor, name="pbx1", host="127.0.0.1", sip_address="127.0.0.1",
                           ami_host="127.0.0.1", ami_port=5038, ami_username="portal", ami_secret="portal-secret")
    Tenant.objects.filter(slug__in=["acme", "globex"]).update(primary_server=server, account_code="ACME-001")
    Tenant.objects.filter(slug="globex").update(account_code="GLX")
    world.acme.refresh_from_db()
    world.globex.refresh_from_db()
    trunks = {}
    for tenant in (world.acme, world.globex):
        with tenant_context(tenant):
            trunks[tenant.slug] = tel.trunk_create(actor=system_actor, tenant=tenant, name="carrier-a",
                                                   auth_type="ip_auth", host="sip.carrier.example")
    return {"server": server, "trunks": trunks}


def write(billing, world, slug: str = "acme", offset: float = 0, prefix: str = "") -> None:
    tenant = getattr(world, slug)
    persist(server=billing["server"], tenants={slug: tenant},
            calls=known_calls(slug, billing["trunks"][slug].pk, offset, prefix), moments=[], members=[])
