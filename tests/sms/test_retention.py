"""Retention: old SMS messages and outbound index rows are deleted in batches; queued messages,
recent rows and opt-outs stay; 0 keeps everything."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from tests.sms.conftest import ACME_DID, GLOBEX_DID
from tests.sms.test_messages_api import send

OLD = timezone.now() - timedelta(days=100)


def world_with_messages(api, client, sms):
    """acme: 3 old sent, 1 old still queued, 1 recent sent, 1 old inbound STOP; globex: 1 old inbound."""
    from apps.sms.models import SmsMessage
    from apps.sms.providers.models import SmsOutboundRef
    from apps.sms.services import inbound_receive

    ids = [send(api, text=f"m{i}").json()["id"] for i in range(5)]
    inbound_receive(provider=sms.provider, carrier_message_id="in-1", sender="+14155550111", to=ACME_DID, text="STOP")
    inbound_receive(provider=sms.provider, carrier_message_id="in-2", sender="+14155550111", to=GLOBEX_DID, text="hi")
    with tenant_context(sms.world.acme):
        SmsMessage.objects.filter(pk__in=ids[:3] + ids[4:]).update(status="sent")
        SmsMessage.objects.exclude(pk=ids[4]).update(created_at=OLD)
    with tenant_context(sms.world.globex):
        SmsMessage.objects.update(created_at=OLD)
    SmsOutboundRef.objects.exclude(message_id=ids[4]).update(created_at=OLD)
    return ids


def remaining(world):
    from apps.sms.models import SmsMessage, SmsOptOut

    out = {}
    for tenant in (world.acme, world.globex):
        with tenant_context(tenant):
            out[tenant.slug] = sorted(SmsMessage.objects.values_list("text", flat=True))
            out[tenant.slug + " opt-outs"] = SmsOptOut.objects.count()
    return out


def test_old_messages_and_index_rows_are_purged_in_batches(api, client, sms, no_celery, settings):
    from apps.sms.providers.models import SmsOutboundRef
    from apps.sms.retention import purge_all

    ids = world_with_messages(api, client, sms)
    settings.SMS_RETENTION_DAYS = 30
    purged = purge_all(batch=2)
    assert (purged.messages, purged.refs) == (5, 4)  # acme 3 sent + STOP, globex 1; 4 old refs
    assert purged.batches >= 6
    assert remaining(sms.world) == {"acme": ["m3", "m4"], "acme opt-outs": 1, "globex": [], "globex opt-outs": 0}
    assert sorted(SmsOutboundRef.objects.values_list("message_id", flat=True)) == [ids[4]]
    assert purge_all(batch=2).messages == 0  # nothing left to do


def test_zero_keeps_messages_and_the_index_has_its_own_shorter_retention(api, client, sms, no_celery, settings):
    from apps.sms.providers.models import SmsOutboundRef
    from apps.sms.retention import purge_all, ref_days

    ids = world_with_messages(api, client, sms)
    settings.SMS_RETENTION_DAYS = 0
    settings.SMS_OUTBOUND_REF_RETENTION_DAYS = 0
    assert (purge_all().messages, purge_all().refs) == (0, 0)
    assert len(remaining(sms.world)["acme"]) == 6 and SmsOutboundRef.objects.count() == 5
    settings.SMS_OUTBOUND_REF_RETENTION_DAYS = 90
    assert purge_all().refs == 4 and len(remaining(sms.world)["acme"]) == 6
    assert [r.message_id for r in SmsOutboundRef.objects.all()] == [ids[4]]
    # the index is never kept longer than the messages it points at
    settings.SMS_RETENTION_DAYS, settings.SMS_OUTBOUND_REF_RETENTION_DAYS = 7, 30
    assert ref_days() == 7


def test_the_purge_is_a_daily_beat_task(api, client, sms, no_celery, settings):
    from apps.sms.tasks import purge_retention
    from thirdlane.celery import collect_beat_schedule

    assert collect_beat_schedule()["sms-purge-retention"]["task"] == "sms.purge_retention"
    world_with_messages(api, client, sms)
    settings.SMS_RETENTION_DAYS = 30
    assert purge_retention() == 9
