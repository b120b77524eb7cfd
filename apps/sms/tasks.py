"""SMS tasks: each takes ids, loads what it needs in its tenant's schema and owns its retries."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> float:
    base = float(settings.SMS_RETRY_BASE)
    delay = base * (2 ** retries)
    return round(delay + random.uniform(0, delay * 0.1), 3)


@shared_task(bind=True, name="sms.send_message", max_retries=None, ignore_result=True, acks_late=True)
def send_message(self, message_id: int, tenant_id: int) -> str:
    """POST message ``message_id`` to its adapter; retried with backoff while the adapter or its
    carrier is down (SMS_MAX_RETRIES), then failed with the last reason."""
    from apps.sms.delivery import deliver
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "gone"
    final = self.request.retries >= int(settings.SMS_MAX_RETRIES)
    outcome = deliver(message_id, tenant, final=final)
    if outcome.result == "retry":
        delay = retry_delay(self.request.retries)
        logger.warning("SMS %s (%s): %s; retrying in %.1fs", message_id, tenant.slug, outcome.error, delay)
        raise self.retry(countdown=delay, max_retries=None)
    return outcome.result


@shared_task(name="sms.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Beat: queue again the messages still queued long after their last try was due (a lost
    Celery message, a broker outage); ``deliver`` skips any that a worker holds."""
    from django_tenants.utils import schema_context

    from apps.sms.models import SmsMessage
    from apps.sms.services import enqueue
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    horizon = timezone.now() - timedelta(seconds=float(settings.SMS_RETRY_BASE) * 2 ** int(settings.SMS_MAX_RETRIES) + 300)
    count = 0
    for tenant_id, schema in Tenant.objects.exclude(schema_name="public").values_list("pk", "schema_name"):
        with schema_context(schema):
            ids = list(SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED, updated_at__lt=horizon)
                       .values_list("pk", flat=True)[:1000])
        for message_id in ids:
            enqueue(message_id, tenant_id)
        count += len(ids)
    return count
