"""The outbox's transactional guarantee, and the audit log API."""
import pytest
from django.db import transaction

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.events.services import emit_event, on_events_committed
from apps.tenants.services import tenant_update


def test_rolled_back_write_leaves_no_outbox_row_and_committed_leaves_exactly_one(committed_world, system_actor):
    world = committed_world
    before = OutboxEvent.objects.count()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            tenant_update(actor=system_actor, tenant=world.acme, name="Rolled back")
            raise RuntimeError("boom")
    assert OutboxEvent.objects.count() == before
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme"

    nudges = []
    hook = on_events_committed(lambda: nudges.append(1))
    try:
        tenant_update(actor=system_actor, tenant=world.acme, name="Committed")
    finally:
        from apps.events import services

        services._after_commit_hooks.remove(hook)
    assert OutboxEvent.objects.count() == before + 1
    event = OutboxEvent.objects.latest("id")
    assert event.type == "tenant.updated" and event.data["name"] == "Committed"
    assert event.tenant_id == world.acme.pk and event.relayed_at is None
    assert nudges == [1], "one nudge after the commit"


@pytest.mark.django_db(transaction=True)
def test_one_nudge_per_transaction_even_for_many_events():
    nudges = []
    hook = on_events_committed(lambda: nudges.append(1))
    try:
        with transaction.atomic():
            for i in range(5):
                emit_event(type="tenant.updated", data={"i": i}, tenant_id=1, tenant_slug="x")
        assert nudges == [1]
        # a rolled-back savepoint drops its nudge but the outer transaction still nudges once
        with transaction.atomic():
            try:
                with transaction.atomic():
                    emit_event(type="tenant.updated", data={}, tenant_id=1, tenant_slug="x")
                    raise ValueError
            except ValueError:
                pass
            emit_event(type="tenant.updated", data={}, tenant_id=1, tenant_slug="x")
        assert nudges == [1, 1]
    finally:
        from apps.events import services

        services._after_commit_hooks.remove(hook)


@pytest.mark.django_db
def test_emit_event_refuses_unknown_types_and_outside_a_transaction():
    with pytest.raises(ValueError):
        with transaction.atomic():
            emit_event(type="no.such.type", data={})


@pytest.mark.django_db(transaction=True)
def test_emit_event_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        emit_event(type="tenant.updated", data={})


@pytest.mark.django_db
def test_events_carry_the_request_id(api, world):
    response = api("reseller").patch("/api/tenants/acme/", {"name": "Acme Two"}, HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    assert OutboxEvent.objects.get(type="tenant.updated").request_id == "req-42"
    assert AuditEntry.objects.filter(request_id="req-42").count() == 1


@pytest.mark.django_db
def test_audit_log_is_scoped_and_records_before_and_after(api, world):
    api("reseller").patch("/api/tenants/acme/", {"name": "Acme Two"})
    api("other_reseller").patch("/api/tenants/initech/", {"name": "Initech Two"})
    mine = api("reseller").get("/api/audit-log/?action=update").json()
    assert [e["tenant"] for e in mine] == ["acme"]
    assert mine[0]["before"] == {"name": "Acme"} and mine[0]["after"] == {"name": "Acme Two"}
    assert mine[0]["actor_label"].startswith("key:tl_") and mine[0]["source"] == "api"
    assert [e["tenant"] for e in api("acme").get("/api/audit-log/?action=update").json()] == ["acme"]
    assert [e["tenant"] for e in api("globex").get("/api/audit-log/?action=update").json()] == []
    assert {e["tenant"] for e in api("system").get("/api/audit-log/?action=update").json()} == {"acme", "initech"}
    assert api("reseller").get("/api/audit-log/?tenant=acme&since=2000-01-01T00:00:00Z").status_code == 200


@pytest.mark.django_db
def test_audit_never_stores_secrets(api, world):
    api("reseller").post("/api/api-keys/", {"name": "x", "scope": "tenant", "tenant": "acme"})
    entry = AuditEntry.objects.filter(object_type="accounts.apikey", action="create").latest("id")
    assert entry.after["key_hash"] == "***"


@pytest.mark.django_db
def test_admin_writes_are_audited(world):
    from django.test import Client

    client = Client()
    client.force_login(world.users["reseller"])
    response = client.post("/admin/tenants/tenant/", {
        "action": "suspend_tenants", "_selected_action": [world.acme.pk]})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(verb="suspend").get()
    assert entry.source == "admin" and entry.actor_label == "user:reseller"
    assert OutboxEvent.objects.filter(type="tenant.suspended").count() == 1
