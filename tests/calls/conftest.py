"""A PBX server hosting acme and globex (as in the recordings), acme's phones 1001/1002, an agent
on 1002, a CRM contact, and the recorded Asterisk 22 events as parsed messages."""
from __future__ import annotations

import random

import pytest
from django_tenants.utils import tenant_context

from apps.pbx.ami.framing import AmiFrameParser
from tests.pbx.peers.fixtures import load_transcript


def recorded_events(name: str, *, replace: dict[bytes, bytes] | None = None) -> list:
    """Every event the server sent in a recording, as messages (responses left out)."""
    data = load_transcript(name).data("server")
    for old, new in (replace or {}).items():
        data = data.replace(old, new)
    parser = AmiFrameParser()
    messages = parser.feed(data)
    return [m for m in messages if m.kind == "event"]


def event_bytes(name: str, *, replace: dict[bytes, bytes] | None = None) -> bytes:
    """The recorded events' raw bytes (responses and the banner cut out), for a peer to send."""
    data = load_transcript(name).data("server")
    for old, new in (replace or {}).items():
        data = data.replace(old, new)
    frames = data.split(b"\r\n\r\n")
    return b"".join(f + b"\r\n\r\n" for f in frames if f.lstrip(b"\r\n").split(b"\r\n", 1)[0].startswith(b"Event:")
                    and b"ActionID:" not in f)


def rechunk(data: bytes, seed: int = 7, lo: int = 1, hi: int = 97) -> list[bytes]:
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(data):
        n = rng.randint(lo, hi)
        pieces.append(data[i:i + n])
        i += n
    return pieces


@pytest.fixture
def pbx(world, system_actor):
    return setup_pbx(world, system_actor)


@pytest.fixture
def committed_pbx(committed_world, system_actor):
    return setup_pbx(committed_world, system_actor)


def setup_pbx(world, system_actor, ami_port: int = 5038):
    from apps.pbx.services import location_create, server_create
    from apps.telephony import services as tel
    from apps.tenants.models import Tenant

    location = location_create(actor=system_actor, code="fra", name="Frankfurt")
    server = server_create(actor=system_actor, name="pbx1", host="127.0.0.1", sip_address="127.0.0.1", location=location,
                           ami_host="127.0.0.1", ami_port=ami_port, ami_username="portal", ami_secret="portal-secret")
    Tenant.objects.filter(slug__in=["acme", "globex"]).update(primary_server=server)
    world.acme.refresh_from_db()
    world.globex.refresh_from_db()
    with tenant_context(world.acme):
        e1 = tel.extension_create(actor=system_actor, tenant=world.acme, number="1001", name="Alice Adams")
        e2 = tel.extension_create(actor=system_actor, tenant=world.acme, number="1002", name="Bob Brown")
        agent = tel.agent_create(actor=system_actor, tenant=world.acme, name="Bob", extension=e2, login_code="2002")
    with tenant_context(world.globex):
        tel.extension_create(actor=system_actor, tenant=world.globex, number="1001", name="Gina Globex")
    return {"server": server, "location": location, "e1": e1, "e2": e2, "agent": agent}
