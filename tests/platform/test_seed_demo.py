"""`manage.py seed_demo` (what `make run` shows a newcomer): every list has rows, made by the
services (audit entries and events), and running it again changes nothing."""
import io

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", base_url="http://portal.test", stdout=out)
    return out.getvalue()


def counts() -> dict:
    from apps.audit.models import AuditEntry
    from apps.events.models import OutboxEvent
    from apps.tenants.models import Tenant

    result = {"audit": AuditEntry.objects.count(), "events": OutboxEvent.objects.count(),
              "tenants": Tenant.objects.count()}
    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            from django.apps import apps

            for model in apps.get_app_config("telephony").get_models():
                result[f"{tenant.slug}.{model._meta.label}"] = model.objects.count()
            for model in apps.get_app_config("crm").get_models():
                result[f"{tenant.slug}.{model._meta.label}"] = model.objects.count()
            for model in apps.get_app_config("sounds").get_models():
                result[f"{tenant.slug}.{model._meta.label}"] = model.objects.count()
    return result


def test_demo_fills_every_list_through_the_services(monkeypatch):
    from apps.accounts.models import ApiKey, User
    from apps.audit.models import AuditEntry
    from apps.events.models import OutboxEvent
    from apps.organizations.models import Organization
    from apps.pbx.models import Location, Server
    from apps.tenants.models import Tenant
    from apps.webhooks.models import Subscription

    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw-1")
    text = seed()
    assert "demo-pw-1" in text and "Demo data created" in text
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["acme", "globex"]
    server = Server.objects.get()
    assert server.location == Location.objects.get() and server.tenants.count() == 2
    assert User.objects.count() == 3 and ApiKey.objects.count() == 4 and Organization.objects.count() == 1
    assert Subscription.objects.filter(tenant__slug="acme").count() == 1
    acme = Tenant.objects.get(slug="acme")
    from apps.crm.models import Account, Activity, Campaign, Contact, ContactList, CustomField, Deal, ImportMap, \
        Lead, Task
    from apps.telephony.models import Agent, Did, Extension, Ivr, OutboundRoute, Queue, Schedule, TimeCondition, Trunk

    with tenant_context(acme):
        for model in (Extension, Did, Trunk, OutboundRoute, Agent, Ivr, Schedule, TimeCondition, Account, Contact,
                      Lead, ContactList, CustomField, Activity, Task, Campaign, Deal, ImportMap):
            assert model.objects.exists(), model.__name__
        queue = Queue.objects.get()
        assert queue.members.filter(agent__isnull=False).count() == 2
        assert Ivr.objects.get().options.count() == 3
        assert Contact.objects.filter(account__isnull=False).count() >= 3
        from apps.sounds.models import SoundFile

        # Sounds, converted: a spoken prompt, music on hold the queue plays, a prompt for every IVR.
        sounds = {(s.kind, s.moh_class, s.name): s.status for s in SoundFile.objects.all()}
        assert sounds[("prompt", "", "welcome")] == sounds[("moh", "calm", "calm-1")] == "ready"
        assert all(sounds[("prompt", "", f"ivr-{pk}")] == "ready" for pk in Ivr.objects.values_list("pk", flat=True))
        assert queue.music_on_hold == "calm"
    # Made by the services: each object has its audit entry, telephony and CRM their events.
    assert AuditEntry.objects.filter(object_type="telephony.extension", tenant_slug="acme").count() == 5
    assert AuditEntry.objects.filter(object_type="pbx.server").count() == 1
    assert OutboxEvent.objects.filter(type="config.did.created", tenant_slug="acme").count() == 3
    assert OutboxEvent.objects.filter(type="crm.contact.created", tenant_slug="acme").count() == 5
    # The printed curl lines only read: the README's first call creates its own tenant.
    assert "-X POST" not in text and "initech" not in text


def test_running_it_twice_changes_nothing():
    seed()
    before = counts()
    again = seed()
    assert counts() == before
    assert "already present" in again and "tl_" not in again  # keys are never shown twice


def test_a_database_seeded_by_an_older_version_gets_what_is_missing():
    from apps.accounts.principal import Principal
    from apps.pbx.models import Server
    from apps.telephony.models import Extension
    from apps.telephony.services import extension_delete
    from apps.tenants.models import Tenant

    seed()
    globex = Tenant.objects.get(slug="globex")
    with tenant_context(globex):
        extension_delete(actor=Principal.system("tests"), tenant=globex, instance=Extension.objects.get(number="2002"))
    before = counts()
    text = seed()
    assert "globex extension 2002" in text
    with tenant_context(globex):
        assert Extension.objects.filter(number="2002").exists()
    after = counts()
    assert after.pop("globex.telephony.Extension") == before.pop("globex.telephony.Extension") + 1
    assert after["tenants"] == before["tenants"] and Server.objects.count() == 1
