"""The files phones get, read with real parsers (xml.etree for Polycom and Grandstream, a
``key = value`` reader for Yealink) and checked against each vendor's documented format and
the values the phone needs: the tenant's primary server address and port, each line's PJSIP
endpoint and secret, the time zone, the provisioning URL and credential."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from tests.provisioning.conftest import SIP_SECRET, create_phone, digest

pytestmark = pytest.mark.django_db


def yealink_values(text: str) -> dict[str, str]:
    """A Yealink CFG file as the phone reads it: the version line, then key = value lines."""
    lines = text.splitlines()
    assert lines[0] == "#!version:1.0.0.1", lines[0]
    values = {}
    for line in lines[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(" = ")
        assert sep and re.fullmatch(r"[a-z0-9_.]+", key), line
        assert key not in values, f"{key} twice"
        values[key] = value
    return values


def fetch(client, world, path: str, mac: str, password: str):
    response = digest(client, path, mac, password)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    assert response["Cache-Control"] == "no-store"
    return response


def test_yealink_file_has_the_server_the_lines_and_the_time_zone(api, world, exts, client):
    created = create_phone(api, exts, mac="00:15:65:AB:CD:EF", model="T54W", lines=("1001", "1002"), name="Front desk")
    password = created.json()["new_password"]
    response = fetch(client, world, "/provisioning/001565abcdef.cfg", "001565abcdef", password)
    assert response["Content-Type"].startswith("text/plain")
    values = yealink_values(response.content.decode())
    assert values["account.1.enable"] == "1"
    assert values["account.1.user_name"] == values["account.1.auth_name"] == "1001-acme"
    assert values["account.1.password"] == SIP_SECRET
    assert values["account.1.sip_server.1.address"] == "sip.acme.test"
    assert values["account.1.sip_server.1.port"] == "5070"
    assert values["account.1.label"] == "1001 Alice Adams"
    assert values["account.2.user_name"] == "1002-acme"
    assert values["account.2.display_name"] == "Bob <Brown> & Co"  # CFG is not escaped
    with tenant_context(world.acme):
        from apps.telephony.models import Extension

        assert values["account.2.password"] == Extension.objects.get(number="1002").sip_secret
    # A T54W has 16 accounts: the unused ones are switched off (a removed line stops registering).
    assert [values[f"account.{n}.enable"] for n in range(3, 17)] == ["0"] * 14
    assert "account.17.enable" not in values
    # Europe/Berlin: UTC+1, summer time from the last Sunday of March 02:00 to the last Sunday of October 03:00.
    assert values["local_time.time_zone"] == "+1"
    assert values["local_time.summer_time"] == "1"
    assert values["local_time.start_time"] == "3/5/7/2" and values["local_time.end_time"] == "10/5/7/3"
    assert values["local_time.offset_time"] == "60"
    assert values["static.auto_provision.server.url"] == "http://testserver/provisioning/"
    assert values["static.auto_provision.server.username"] == "001565abcdef"
    assert values["static.auto_provision.server.password"] == password
    assert re.fullmatch(r"admin:[A-Za-z0-9]{16}", values["static.security.user_password"])
    assert values["voice_mail.number.1"] == "*97"


def test_yealink_model_file_is_served_to_an_authenticated_phone(api, world, exts, client):
    password = create_phone(api, exts).json()["new_password"]
    response = fetch(client, world, "/provisioning/y000000000104.cfg", "001565abcdef", password)
    assert response.content.decode().startswith("#!version:1.0.0.1\n")
    yealink_values(response.content.decode())


def test_polycom_master_and_phone_files(api, world, exts, client):
    created = create_phone(api, exts, mac="0004F2-AA-BB-CC", model="VVX450", lines=("1002", "1001"),
                           name="Boardroom -- east")
    assert created.status_code == 201, created.content
    password = created.json()["new_password"]
    master = ET.fromstring(fetch(client, world, "/provisioning/0004f2aabbcc.cfg", "0004f2aabbcc", password).content)
    assert master.tag == "APPLICATION"
    assert master.get("CONFIG_FILES") == "0004f2aabbcc-phone.cfg"
    # Polycom's default master file name gets the same master file, for the phone that authenticated.
    default = ET.fromstring(fetch(client, world, "/provisioning/000000000000.cfg", "0004f2aabbcc", password).content)
    assert default.get("CONFIG_FILES") == "0004f2aabbcc-phone.cfg"

    response = fetch(client, world, "/provisioning/0004f2aabbcc-phone.cfg", "0004f2aabbcc", password)
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "PHONE_CONFIG"
    attrs = {k: v for element in root.iter() for k, v in element.attrib.items()}
    assert attrs["reg.1.address"] == attrs["reg.1.auth.userId"] == "1002-acme"
    assert attrs["reg.1.displayName"] == "Bob <Brown> & Co"  # escaped in the file, read back as written
    assert attrs["reg.2.address"] == "1001-acme" and attrs["reg.2.auth.password"] == SIP_SECRET
    for n in (1, 2):
        assert attrs[f"reg.{n}.server.1.address"] == "sip.acme.test"
        assert attrs[f"reg.{n}.server.1.port"] == "5070"
        assert attrs[f"reg.{n}.server.1.transport"] == "UDPOnly"
        assert attrs[f"msg.mwi.{n}.callBack"] == "*97"
    assert all(attrs[f"reg.{n}.address"] == "" for n in range(3, 13))  # the VVX450's 12 lines
    assert "reg.13.address" not in attrs
    assert attrs["tcpIpApp.sntp.gmtOffset"] == "3600"
    assert attrs["tcpIpApp.sntp.daylightSavings.enable"] == "1"
    assert attrs["tcpIpApp.sntp.daylightSavings.start.month"] == "3"
    assert attrs["tcpIpApp.sntp.daylightSavings.start.dayOfWeek"] == "1"  # Sunday
    assert attrs["tcpIpApp.sntp.daylightSavings.start.dayOfWeek.lastInMonth"] == "1"
    assert attrs["device.prov.user"] == "0004f2aabbcc" and attrs["device.prov.password"] == password
    assert attrs["device.prov.serverName"] == "http://testserver/provisioning/"


def test_grandstream_file(api, world, exts, client):
    created = create_phone(api, exts, mac="C0:74:AD:11:22:33", model="GRP2614", lines=("1003", "1001"))
    password = created.json()["new_password"]
    response = fetch(client, world, "/provisioning/cfgc074ad112233.xml", "c074ad112233", password)
    root = ET.fromstring(response.content)
    assert root.tag == "gs_provision" and root.get("version") == "1"
    assert root.findtext("mac") == "c074ad112233"
    config = root.find("config")
    assert config.get("version") == "1"
    tags = [element.tag for element in config]
    assert all(re.fullmatch(r"P\d+", tag) for tag in tags) and len(tags) == len(set(tags))
    p = {element.tag: element.text or "" for element in config}
    # Account 1 (P271 ...) is 1003, account 2 (P401 ...) is 1001, accounts 3 and 4 are off.
    assert (p["P271"], p["P47"], p["P35"], p["P36"]) == ("1", "sip.acme.test:5070", "1003-acme", "1003-acme")
    assert (p["P401"], p["P402"], p["P404"], p["P405"], p["P406"]) == (
        "1", "sip.acme.test:5070", "1001-acme", "1001-acme", SIP_SECRET)
    assert p["P501"] == p["P601"] == "0" and "P1701" not in p
    assert p["P64"] == "customize" and p["P246"] == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert p["P237"] == "testserver/provisioning" and p["P212"] == "1"
    assert p["P1360"] == "c074ad112233" and p["P1361"] == password


def test_an_https_provisioning_url_is_what_phones_are_told(api, world, exts, client):
    with override_settings(PROVISIONING_BASE_URL="https://prov.example.com/provisioning"):
        password = create_phone(api, exts, mac="c074ad112233", model="GRP2612").json()["new_password"]
        p = {e.tag: e.text for e in ET.fromstring(fetch(client, world, "/provisioning/cfgc074ad112233.xml",
                                                         "c074ad112233", password).content).find("config")}
        assert p["P212"] == "2" and p["P237"] == "prov.example.com/provisioning"
        phone = api("acme").get("/api/phones/acme/").json()[0]
        assert phone["provisioning"] == {"url": "https://prov.example.com/provisioning/", "username": "c074ad112233",
                                         "files": ["cfgc074ad112233.xml"]}


def test_a_disabled_extension_line_is_sent_switched_off(api, world, exts, client, system_actor):
    from apps.telephony.services import extension_update

    password = create_phone(api, exts, lines=("1001", "1002")).json()["new_password"]
    with tenant_context(world.acme):
        extension_update(actor=system_actor, tenant=world.acme, instance=exts["1002"], enabled=False)
    values = yealink_values(fetch(client, world, "/provisioning/001565abcdef.cfg", "001565abcdef",
                                  password).content.decode())
    assert values["account.1.enable"] == "1" and values["account.2.enable"] == "0"


def test_a_time_zone_without_summer_time(api, world, exts, client, system_actor):
    from apps.tenants.services import tenant_update

    tenant_update(actor=system_actor, tenant=world.acme, timezone="Asia/Kolkata")
    password = create_phone(api, exts).json()["new_password"]
    values = yealink_values(fetch(client, world, "/provisioning/001565abcdef.cfg", "001565abcdef",
                                  password).content.decode())
    assert values["local_time.time_zone"] == "+5:30" and values["local_time.summer_time"] == "0"
    assert "local_time.start_time" not in values


def test_the_shipped_templates_pass_the_format_check_for_every_model():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("provisioning_templates", "--check", stdout=out)
    rows = out.getvalue().splitlines()
    assert len(rows) == 9 * 2 + 4 * 2 + 6  # yealink models x 2 files, polycom x 2, grandstream x 1
    assert all(row.endswith("ok") for row in rows), rows


def test_the_tenants_own_voicemail_code_reaches_the_phone(api, world, exts, client, system_actor):
    from apps.telephony.services.featurecodes import feature_code_create, feature_code_update

    password = create_phone(api, exts, lines=("1001", "1002")).json()["new_password"]
    with tenant_context(world.acme):
        code = feature_code_create(actor=system_actor, tenant=world.acme, feature="voicemail", code="*123")
    values = yealink_values(fetch(client, world, "/provisioning/001565abcdef.cfg", "001565abcdef",
                                  password).content.decode())
    assert values["voice_mail.number.1"] == values["voice_mail.number.2"] == "*123"
    with tenant_context(world.acme):
        feature_code_update(actor=system_actor, tenant=world.acme, instance=code, enabled=False)
    values = yealink_values(fetch(client, world, "/provisioning/001565abcdef.cfg", "001565abcdef",
                                  password).content.decode())
    assert values["voice_mail.number.1"] == ""
