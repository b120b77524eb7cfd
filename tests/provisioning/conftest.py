"""Fixtures of the provisioning tests: acme on a PBX server (sip.acme.test:5070, Europe/Berlin),
three extensions in acme and one in globex, and helpers to fetch files as a phone does."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django_tenants.utils import tenant_context

PHONES = "/api/phones/acme/"
SIP_SECRET = "Sip-Secret-77-xyZ&q"


@pytest.fixture
def pbx(world, system_actor):
    """acme and globex hosted on one server; acme's time zone is Europe/Berlin."""
    from apps.pbx.services import server_create
    from apps.tenants.services import tenant_update

    server = server_create(actor=system_actor, name="pbx-fra-1", host="pbx1.example.test",
                           sip_address="sip.acme.test", sip_port=5070, ami_host="127.0.0.1", ami_username="portal",
                           ami_secret="ami-secret-123")
    world.acme = tenant_update(actor=system_actor, tenant=world.acme, primary_server=server, timezone="Europe/Berlin")
    world.globex = tenant_update(actor=system_actor, tenant=world.globex, primary_server=server)
    return server


@pytest.fixture
def exts(world, pbx, system_actor):
    """acme's extensions 1001-1003 (1001 with a known SIP secret) and globex's 2001, by number."""
    from apps.telephony.services import extension_create

    out = {}
    with tenant_context(world.acme):
        for number, name in (("1001", "Alice Adams"), ("1002", "Bob <Brown> & Co"), ("1003", "Carol Chen")):
            extra = {"sip_secret": SIP_SECRET} if number == "1001" else {}
            out[number] = extension_create(actor=system_actor, tenant=world.acme, number=number, name=name, **extra)
    with tenant_context(world.globex):
        out["2001"] = extension_create(actor=system_actor, tenant=world.globex, number="2001", name="Hank")
    return out


def create_phone(api, exts, *, mac="00:15:65:AB:CD:EF", model="T54W", lines=("1001",), key="acme", tenant=None,
                 **body):
    body = {"mac": mac, "model": model, "lines": [{"extension": exts[n].pk} for n in lines], **body}
    return api(key).post(f"/api/phones/{tenant or key}/", body)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def digest(client, path: str, username: str, password: str, *, algorithm="MD5", qop=True, nonce=None, **overrides):
    """A phone's digest exchange: ask, read the challenge, answer it (RFC 7616, qop=auth)."""
    uri = overrides.pop("uri", path)
    first = client.get(path, **overrides)
    assert first.status_code == 401, first.status_code
    challenge = dict(re.findall(r'(\w+)="?([^",]*)"?', first["WWW-Authenticate"]))
    realm, nonce = challenge["realm"], nonce or challenge["nonce"]
    h = hashlib.md5 if algorithm == "MD5" else hashlib.sha256
    ha1 = h(f"{username}:{realm}:{password}".encode()).hexdigest()
    ha2 = h(f"GET:{uri}".encode()).hexdigest()
    if qop:
        response = h(f"{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}".encode()).hexdigest()
        header = (f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, '
                  f'nc=00000001, cnonce="0a4f113b", response="{response}", algorithm={algorithm}, '
                  f'opaque="{challenge.get("opaque", "")}"')
    else:
        response = h(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        header = f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{response}"'
    return client.get(path, HTTP_AUTHORIZATION=header, **overrides)
