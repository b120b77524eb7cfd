"""/api/servers/ and /api/locations/: scope, write-only AMI secret, validation, events, 409s."""
import pytest

from apps.events.models import OutboxEvent
from apps.pbx.models import Location, Server
from tests.pbx.golden.demo import host_on, make_server

pytestmark = pytest.mark.django_db

NEW_SERVER = {"name": "pbx-us-2", "host": "pbx2.example.net", "sip_address": "sip2.example.net", "sip_port": 5060,
              "ami_host": "10.0.0.12", "ami_port": 5038, "ami_username": "portal", "ami_secret": "Sup3r-Secret-AMI",
              "config_dir": "/etc/asterisk", "role": "pbx"}


@pytest.fixture
def servers(world):
    eu = make_server(name="pbx-eu-1")
    us = make_server(name="pbx-us-1", location=None)
    make_server(name="pbx-old", is_active=False)
    host_on(eu, world.acme)
    host_on(us, world.initech)
    return {"eu": eu, "us": us}


def test_system_key_creates_server_with_encrypted_write_only_secret(api, world):
    response = api("system").post("/api/servers/", {**NEW_SERVER, "location": None})
    assert response.status_code == 201, response.content
    body = response.json()
    assert "ami_secret" not in body and body["ami_secret_set"] is True
    assert "Sup3r-Secret-AMI" not in response.content.decode()
    server = Server.objects.get(name="pbx-us-2")
    assert server.ami_secret == "Sup3r-Secret-AMI"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ami_secret FROM pbx_server WHERE id = %s", [server.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:") and "Sup3r" not in stored
    event = OutboxEvent.objects.get(type="server.created")
    assert event.data["name"] == "pbx-us-2" and "ami_secret" not in event.data and event.system


def test_update_without_secret_keeps_it(api, servers):
    server = servers["eu"]
    response = api("system").patch(f"/api/servers/{server.pk}/", {"sip_port": 5070, "ami_secret": ""})
    assert response.status_code == 200, response.content
    server.refresh_from_db()
    assert server.sip_port == 5070 and server.ami_secret == "portal-secret"


def test_bad_server_fields_are_problems_naming_the_field(api, world):
    response = api("system").post("/api/servers/", {**NEW_SERVER, "host": "not a host!", "config_dir": "etc/../x"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) == {"host", "config_dir"}
    response = api("system").post("/api/servers/", {**NEW_SERVER, "ami_port": 70000})
    assert response.status_code == 400 and "ami_port" in response.json()["errors"]


def test_duplicate_server_name_is_409(api, servers):
    response = api("system").post("/api/servers/", {**NEW_SERVER, "name": "pbx-eu-1"})
    assert response.status_code == 409 and response.json()["code"] == "duplicate"
    assert "name" in response.json()["errors"]


def test_reseller_sees_active_pbx_servers_summary_only(api, servers):
    response = api("reseller").get("/api/servers/")
    assert response.status_code == 200
    assert [s["name"] for s in response.json()] == ["pbx-eu-1", "pbx-us-1"]
    assert set(response.json()[0]) == {"id", "name", "sip_address", "sip_port", "location", "role", "is_active"}
    assert response["X-Total-Count"] == "2"


def test_tenant_key_sees_only_its_own_server(api, servers):
    assert [s["name"] for s in api("acme").get("/api/servers/").json()] == ["pbx-eu-1"]
    assert api("globex").get("/api/servers/").json() == []
    assert api("acme").get(f"/api/servers/{servers['us'].pk}/").status_code == 404


def test_only_system_credentials_write_servers(api, servers):
    for label in ("reseller", "acme", "system_ro"):
        response = api(label).post("/api/servers/", NEW_SERVER)
        assert response.status_code == 403, label
    response = api("reseller").patch(f"/api/servers/{servers['eu'].pk}/", {"sip_port": 1})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_deleting_a_server_that_hosts_tenants_is_409_naming_them(api, servers):
    response = api("system").delete(f"/api/servers/{servers['eu'].pk}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    assert response.json()["used_by"] == ["tenant acme"]
    old = Server.objects.get(name="pbx-old")
    assert api("system").delete(f"/api/servers/{old.pk}/").status_code == 204
    assert OutboxEvent.objects.filter(type="server.deleted", data__name="pbx-old").exists()


def test_server_list_query_count_does_not_grow(api, servers, django_assert_max_num_queries):
    client = api("system")
    client.get("/api/servers/")  # warm the key cache
    with django_assert_max_num_queries(6):
        small = client.get("/api/servers/")
    for i in range(20):
        make_server(name=f"pbx-extra-{i}")
    with django_assert_max_num_queries(6):
        big = client.get("/api/servers/")
    assert len(big.json()) == len(small.json()) + 20
    assert {s["name"]: s["tenant_count"] for s in big.json()}["pbx-eu-1"] == 1


def test_locations_crud_and_in_use(api, servers):
    response = api("system").post("/api/locations/", {"code": "nyc", "name": "New York",
                                                      "timezone": "America/New_York"})
    assert response.status_code == 201, response.content
    response = api("system").post("/api/locations/", {"code": "bad", "name": "Bad", "timezone": "Mars/Base"})
    assert response.status_code == 400 and "timezone" in response.json()["errors"]
    assert [loc["code"] for loc in api("acme").get("/api/locations/").json()] == ["fra", "nyc"]
    assert api("acme").post("/api/locations/", {"code": "x", "name": "x"}).status_code == 403
    fra = Location.objects.get(code="fra")
    response = api("system").delete(f"/api/locations/{fra.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"


def test_tenant_api_can_pick_a_primary_server_by_name(api, servers):
    response = api("reseller").patch("/api/tenants/globex/", {"primary_server": "pbx-us-1"})
    assert response.status_code == 200, response.content
    assert response.json()["primary_server"] == "pbx-us-1"


def test_a_location_used_by_tenants_extensions_cannot_be_deleted(api, world, servers):
    from django_tenants.utils import tenant_context

    from apps.telephony.models import Extension

    nyc = Location.objects.create(code="nyc", name="New York")
    with tenant_context(world.acme):
        Extension.objects.create(number="1001", name="Ann", location=nyc, sip_secret="Strong-Secret-123")
    response = api("system").delete(f"/api/locations/{nyc.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    assert response.json()["used_by"] == ["1 extension(s) of tenant acme"]
    assert Location.objects.filter(pk=nyc.pk).exists()
