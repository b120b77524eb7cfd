"""Handing an outbound SMS to its provider's adapter: one signed POST per try.

``deliver`` claims the queued message with a row lock held for the whole try (a second copy of
the task skips a locked or no longer queued row, so a message is never POSTed twice at once),
POSTs it signed with the provider's secret(s) and records the outcome in the same transaction as
its event:

    2xx + carrier_message_id           sent (communications.sms.sent)
    401/403                            failed adapter_refused: it did not accept our signature
    other 4xx (not 408/425/429)        failed with the adapter's error code and the carrier's reason
    5xx, 408/425/429, timeout, refused retry: still queued, attempts + 1 (the task decides when)

The POST keeps the same ``webhook-id`` (``msg_<message id>``) on every try, so an adapter that saw
a try whose answer was lost recognises the repeat instead of sending the SMS twice.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events.services import emit_event
from apps.sms import payloads
from apps.sms.models import SmsMessage
from apps.sms.providers.models import SmsOutboundRef, SmsProvider
from apps.sms.providers.services import signing_secrets
from apps.webhooks import targets
from apps.webhooks.signing import signature_header

logger = logging.getLogger(__name__)
S = SmsMessage.Status
USER_AGENT = "Thirdlane-SMS/1.0"


@dataclass
class Outcome:
    result: str  # sent | failed | retry | skip
    error: str = ""


def signed_headers(provider: SmsProvider, message_id: str, body: str) -> dict[str, str]:
    now = datetime.now(dt_timezone.utc)
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature_header(signing_secrets(provider), message_id, now, body)}


def _answer(result: targets.Result) -> dict:
    try:
        data = json.loads(result.response_excerpt or "{}")
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


def _fail(message: SmsMessage, tenant, provider_name: str, code: str, reason: str) -> Outcome:
    message.status, message.failed_at = S.FAILED, timezone.now()
    message.error_code, message.error_message = code[:40], reason[:500]
    message.save()
    emit_event(type="communications.sms.failed", tenant=tenant,
               data=payloads.event_data(message, provider_name=provider_name))
    return Outcome("failed", reason)


def deliver(message_id: int, tenant, *, final: bool = False) -> Outcome:
    """One try. ``final``: a retryable failure fails the message instead (the last try)."""
    with schema_context(tenant.schema_name), transaction.atomic():
        message = (SmsMessage.objects.select_for_update(skip_locked=True)
                   .filter(pk=message_id, status=S.QUEUED).first())
        if message is None:
            return Outcome("skip")
        provider = SmsProvider.objects.filter(pk=message.provider_id).first()
        if provider is None or not provider.enabled:
            return _fail(message, tenant, provider.name if provider else "", "provider_unavailable",
                         "The SMS provider was removed or disabled before the message was sent.")
        message.attempts += 1
        body = json.dumps(payloads.adapter_body(message, tenant.slug), separators=(",", ":"), ensure_ascii=False)
        result = targets.post(provider.url, body.encode(), signed_headers(provider, message.message_id, body),
                              timeout=float(provider.timeout_seconds))
        answer = _answer(result)
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        reason = str(error.get("message") or result.error or "")[:500]
        if result.succeeded:
            carrier_id = str(answer.get("carrier_message_id") or "")[:100]
            if not carrier_id:
                return _fail(message, tenant, provider.name, "adapter_error",
                             "The adapter answered 2xx without a carrier_message_id.")
            message.status, message.sent_at, message.carrier_message_id = S.SENT, timezone.now(), carrier_id
            message.error_code = message.error_message = ""
            message.save()
            try:
                with transaction.atomic():
                    SmsOutboundRef.objects.filter(ref=message.ref).update(carrier_message_id=carrier_id)
            except IntegrityError:  # an adapter that reuses carrier ids: receipts fall back to our id
                logger.warning("SMS %s: carrier id %s already used by another message", message.pk, carrier_id)
            emit_event(type="communications.sms.sent", tenant=tenant,
                       data=payloads.event_data(message, provider_name=provider.name))
            return Outcome("sent")
        status = result.status_code
        if status in (401, 403):
            return _fail(message, tenant, provider.name, "adapter_refused",
                         f"The adapter refused the portal's request (HTTP {status}): {reason or 'check its secret'}.")
        if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
            return _fail(message, tenant, provider.name, str(error.get("code") or "carrier_rejected"),
                         reason or f"HTTP {status}")
        # The adapter or the carrier behind it is down or busy: retry (the task owns the schedule).
        detail = reason or result.error or f"HTTP {status}"
        if final:
            return _fail(message, tenant, provider.name,
                         str(error.get("code") or ("adapter_unreachable" if status is None else "carrier_unavailable")),
                         f"Gave up after {message.attempts} attempts: {detail}")
        message.error_message = f"Attempt {message.attempts}: {detail}"[:500]
        message.save(update_fields=["attempts", "error_message", "updated_at"])
        return Outcome("retry", detail)
