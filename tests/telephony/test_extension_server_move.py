"""Extension events say where to send SIP, and moving a tenant to another server republishes them."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import OutboxEvent
from apps.pbx.models import Server
from apps.telephony.services import extension_bulk_create, extension_create

pytestmark = pytest.mark.django_db


def server(name, address, port=5060):
    return Server.objects.create(name=name, host=name, sip_address=address, sip_port=port, ami_host="a",
                                 ami_username="u", ami_secret="s")


def extension_events(tenant):
    return list(OutboxEvent.objects.filter(tenant_id=tenant.pk, type__startswith="config.extension.").order_by("id"))


def test_extension_payload_carries_the_primary_servers_sip_address_and_port(api, world):
    world.acme.primary_server = server("pbx-eu-1", "sip.eu-1.example.net", 5080)
    world.acme.save()
    assert api("acme").post("/api/extensions/acme/", {"number": "1001", "name": "Alice"}).status_code == 201
    [event] = extension_events(world.acme)
    assert event.data["primary_server"] == "pbx-eu-1"
    assert event.data["primary_server_sip"] == {"address": "sip.eu-1.example.net", "port": 5080}


def test_without_a_primary_server_the_sip_target_is_null(api, world):
    api("acme").post("/api/extensions/acme/", {"number": "1001", "name": "Alice"})
    [event] = extension_events(world.acme)
    assert event.data["primary_server"] is None and event.data["primary_server_sip"] is None


def test_moving_a_tenant_republishes_every_extension_in_one_insert(api, world, system_actor):
    from apps.tenants.services import tenant_update

    old, new = server("pbx-eu-1", "10.0.0.1"), server("pbx-eu-2", "10.0.0.2", 5070)
    world.acme.primary_server = old
    world.acme.save()
    extension_bulk_create(actor=system_actor, tenant=world.acme, start="1001", end="1030")
    extension_create(actor=system_actor, tenant=world.globex, number="1001", name="Not moved")
    before = OutboxEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = api("reseller").patch("/api/tenants/acme/", {"primary_server": new.name})
    assert response.status_code == 200, response.content
    inserts = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('INSERT INTO "events_outboxevent"')]
    assert len(inserts) == 2  # tenant.updated, then the 30 extension events together

    moved = list(OutboxEvent.objects.filter(pk__gt=0).order_by("id"))[before:]
    updated = [e for e in moved if e.type == "config.extension.updated"]
    assert len(updated) == 30 and {e.tenant_id for e in updated} == {world.acme.pk}
    assert sorted(e.data["number"] for e in updated) == [str(n) for n in range(1001, 1031)]
    for event in updated:
        assert event.data["primary_server"] == "pbx-eu-2"
        assert event.data["primary_server_sip"] == {"address": "10.0.0.2", "port": 5070}
        assert event.data["cause"] == "primary_server_changed" and event.system is True
        assert "sip_secret" not in event.data


def test_an_update_that_keeps_the_server_emits_no_extension_event(api, world, system_actor):
    world.acme.primary_server = server("pbx-eu-1", "10.0.0.1")
    world.acme.save()
    extension_create(actor=system_actor, tenant=world.acme, number="1001", name="A")
    before = OutboxEvent.objects.filter(type="config.extension.updated").count()
    response = api("reseller").patch("/api/tenants/acme/", {"name": "Acme Corp"})
    assert response.status_code == 200
    assert OutboxEvent.objects.filter(type="config.extension.updated").count() == before
