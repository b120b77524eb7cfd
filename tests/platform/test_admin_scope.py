"""Every page of the platform admin keeps to the user's scope, by the same rule as the API.

For each registered model there is an object owned by someone else (the other reseller, its
tenant initech, or the platform); a reseller admin and a tenant admin of the first reseller must
not see it in the changelist nor open it (404, or 403 for pages they may not use at all). A model
registered without an entry here fails the test, so a new admin page cannot skip the check.
"""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client

from apps.accounts.principal import Principal

ACTOR = Principal.system("tests")


def foreign_objects(world) -> dict:
    from django.contrib.auth.models import Group

    from apps.accounts.models import ApiKey, User
    from apps.audit.models import AuditEntry
    from apps.events.services import emit_event
    from apps.organizations.services import organization_create
    from apps.pbx.models import ConfigPush, Location, Server
    from apps.sms.providers.services import provider_create
    from apps.webhooks import services as webhooks
    from apps.webhooks.models import Attempt, Delivery
    from apps.webhooks.relay import relay_pending

    from apps.exports.models import ExportRun, ExportSchedule

    location = Location.objects.create(code="fra", name="Frankfurt")
    schedule = ExportSchedule.objects.create(name="Two's CDRs", reseller=world.other_reseller,
                                             destination_type="directory", destination={"path": "two"})
    server = Server.objects.create(name="pbx-fra", host="10.0.0.9", location=location)
    hook = webhooks.subscription_create(actor=ACTOR, tenant=world.initech, url="https://i.example.com/",
                                        event_types=["*"])
    with transaction.atomic():
        emit_event(type="crm.contact.created", data={"id": 1}, tenant=world.initech)
    [delivery_id] = relay_pending()
    delivery = Delivery.objects.get(pk=delivery_id)
    attempt = Attempt.objects.create(delivery=delivery, attempted_at=delivery.created_at, status_code=500, error="x")
    return {
        "tenants.Reseller": world.other_reseller,
        "tenants.Tenant": world.initech,
        "auth.Group": Group.objects.create(name="platform-ops"),
        "accounts.User": User.objects.get(username="other"),
        "accounts.ApiKey": ApiKey.objects.filter(tenant=world.initech).first(),
        "audit.AuditEntry": AuditEntry.objects.filter(tenant_id=world.initech.pk).first(),
        "pbx.Location": location,
        "pbx.Server": server,
        "pbx.ConfigPush": ConfigPush.objects.create(server=server, status="succeeded"),
        "organizations.Organization": organization_create(actor=ACTOR, name="Two Org", slug="two-org",
                                                          reseller=world.other_reseller),
        "webhooks.Subscription": hook,
        "webhooks.Delivery": delivery,
        "webhooks.Attempt": attempt,
        "exports.ExportSchedule": schedule,
        "exports.ExportRun": ExportRun.objects.create(schedule=schedule, status="succeeded"),
        "sms_providers.SmsProvider": provider_create(actor=ACTOR, name="Initech SMS", tenant=world.initech,
                                                     url="https://sms.initech.example/messages"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("username,password", [("reseller", "pw-reseller-1"), ("acme-admin", "pw-acme-1")])
def test_no_admin_page_shows_another_scopes_object(world, username, password):
    objects = foreign_objects(world)
    registered = {model._meta.label for model in admin.site._registry}
    assert registered == set(objects), "give every registered admin model a foreign object here"
    client = Client()
    assert client.login(username=username, password=password)
    for label, obj in objects.items():
        assert obj is not None, label
        opts = obj._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        listing = client.get(base)
        assert listing.status_code in (200, 403), (label, listing.status_code)
        if listing.status_code == 200:
            assert f"{base}{obj.pk}/change/" not in listing.content.decode(), label
        for suffix in ("change/", "delete/", "history/"):
            response = client.get(f"{base}{obj.pk}/{suffix}")
            assert response.status_code in (403, 404), (label, suffix, response.status_code)


@pytest.mark.django_db
def test_a_user_has_one_scope(world):
    from django.db import IntegrityError

    from apps.accounts.models import User

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("both", "b@example.com", "pw", role=User.Role.TENANT_ADMIN,
                                 reseller=world.reseller, tenant=world.acme)
