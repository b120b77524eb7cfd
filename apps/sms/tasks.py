"""SMS tasks. A tenant's queued messages are handed to the adapters by ``sms.drain``: it claims
batches (apps.sms.delivery.deliver_batch) until none is due. Tasks take ids and own their retries:
a message that must be tried again gets ``next_attempt_at`` on its row, and a drain is queued for
that time; the row, not the Celery message, is the truth, and beat re-queues what a lost message
left behind."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)
QUEUED_TTL = 300  # seconds; a queued drain that never started (lost message) stops hiding new ones


def queued_key(tenant_id: int) -> str:
    return f"sms:drain-queued:{tenant_id}"


def kick(tenant_id: int, countdown: float | None = None) -> None:
    """Make sure a drain will run for the tenant (after ``countdown`` seconds, for a retry). Only
    one undelivered drain message per tenant at a time: a drain queued but not started yet will
    see whatever was committed before it starts."""
    from thirdlane.redis import get_redis

    if countdown:
        drain.apply_async((tenant_id,), countdown=countdown)
        return
    try:
        if not get_redis().set(queued_key(tenant_id), "1", nx=True, ex=QUEUED_TTL):
            return
    except Exception:  # Redis down: queue one anyway (a duplicate drain is harmless: SKIP LOCKED)
        logger.warning("SMS drain flag unavailable; queueing a drain", exc_info=True)
    drain.delay(tenant_id)


@shared_task(name="sms.drain", ignore_result=True, acks_late=True)
def drain(tenant_id: int) -> int:
    """Hand the tenant's due queued messages to their adapters, a batch at a time."""
    from apps.sms.delivery import deliver_batch
    from apps.tenants.models import Tenant
    from thirdlane.redis import get_redis

    try:
        get_redis().delete(queued_key(tenant_id))  # from now on, a new commit queues another drain
    except Exception:
        pass
    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    handled, retry_in = 0, None
    while True:
        outcomes = deliver_batch(tenant)
        if not outcomes:
            break
        handled += len(outcomes)
        delays = [o.delay for o in outcomes.values() if o.result == "retry"]
        if delays:
            retry_in = min(delays + ([retry_in] if retry_in else []))
    if retry_in:
        kick(tenant_id, countdown=retry_in)
    return handled


@shared_task(bind=True, name="sms.send_message", ignore_result=True, acks_late=True)
def send_message(self, message_id: int, tenant_id: int) -> str:
    """One try for one message (kept for messages queued by an older release): a drain does the rest."""
    from apps.sms.delivery import deliver
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "gone"
    outcome = deliver(message_id, tenant)
    if outcome.result == "retry":
        kick(tenant_id, countdown=outcome.delay)
    return outcome.result


@shared_task(name="sms.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Beat: queue a drain for every tenant with messages due more than a minute ago (a lost
    Celery message, a broker outage); a drain skips rows another one holds."""
    from django_tenants.utils import schema_context
    from django.db.models import Q

    from apps.sms.models import SmsMessage
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    horizon = timezone.now() - timedelta(seconds=60)
    kicked = 0
    for tenant_id, schema in Tenant.objects.exclude(schema_name="public").values_list("pk", "schema_name"):
        with schema_context(schema):
            stale = SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED, updated_at__lt=horizon).filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=horizon)).exists()
        if stale:
            kick(tenant_id)
            kicked += 1
    return kicked


@shared_task(name="sms.purge_retention", ignore_result=True)
def purge_retention() -> int:
    """Daily: SMS messages past SMS_RETENTION_DAYS and outbound index rows past
    SMS_OUTBOUND_REF_RETENTION_DAYS, in batches (apps.sms.retention)."""
    from apps.sms import retention

    purged = retention.purge_all()
    return purged.messages + purged.refs
