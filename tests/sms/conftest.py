"""An SMS world: acme with an SMS-capable DID (+14155550199) and a voice-only one (+14155550198),
globex with its own SMS DID, a system-wide custom HTTP provider, and a CRM contact (+14155550100)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import tenant_context

ACME_DID, ACME_VOICE_DID, GLOBEX_DID, CONTACT_PHONE = "+14155550199", "+14155550198", "+14155550177", "+14155550100"


@dataclass
class SmsWorld:
    world: object
    provider: object
    key: str
    contact_id: int


def build_sms_world(world, actor, *, url: str = "http://127.0.0.1:9/adapter") -> SmsWorld:
    from apps.crm.services import contact_create
    from apps.sms.providers.services import provider_create
    from apps.telephony.services import did_create

    with tenant_context(world.acme):
        did_create(actor=actor, tenant=world.acme, number=ACME_DID, sms_enabled=True)
        did_create(actor=actor, tenant=world.acme, number=ACME_VOICE_DID)
        contact = contact_create(actor=actor, tenant=world.acme, first_name="Ada", last_name="Lovelace",
                                 phone=CONTACT_PHONE)
    with tenant_context(world.globex):
        did_create(actor=actor, tenant=world.globex, number=GLOBEX_DID, sms_enabled=True)
    provider = provider_create(actor=actor, name="Carrier X", url=url)
    return SmsWorld(world, provider, provider.key, contact.pk)


@pytest.fixture
def sms(world, system_actor, settings) -> SmsWorld:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return build_sms_world(world, system_actor)


@pytest.fixture
def no_celery(monkeypatch):
    """Sends queued in a test stay queued (nothing consumes the test's Celery queue here);
    the tests drive ``apps.sms.delivery.deliver`` themselves."""
    from apps.sms import services

    queued = []
    monkeypatch.setattr(services, "enqueue", lambda message_id, tenant_id, countdown=None: queued.append(message_id))
    return queued
