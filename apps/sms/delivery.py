"""Handing outbound SMS to their provider's adapter: signed POSTs, a batch at a time.

``deliver_batch`` claims up to ``SMS_BATCH_SIZE`` queued messages of one tenant whose time has
come (``SELECT ... FOR UPDATE SKIP LOCKED``: a concurrent drain takes other rows, never the same
one, so a message is never POSTed twice at once), POSTs them to their adapters in parallel
(``SMS_SEND_THREADS``), and records every outcome and its event in the same transaction, which
holds the rows until then (a receipt that races it waits on the row lock):

    2xx + carrier_message_id           sent (communications.sms.sent)
    401/403                            failed adapter_refused: it did not accept our signature
    other 4xx (not 408/425/429)        failed with the adapter's error code and the carrier's reason
    5xx, 408/425/429, timeout, refused still queued: attempts + 1, next_attempt_at after a backoff
                                       (SMS_RETRY_BASE x 2^n, ±10%); failed after SMS_MAX_RETRIES retries

The POST keeps the same ``webhook-id`` (the message id) on every try, so an adapter that saw a
try whose answer was lost recognises the repeat instead of sending the SMS twice.
"""
from __future__ import annotations

import json
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events.services import emit_events
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
    delay: float = 0.0  # seconds until the next try (retry)


def retry_delay(attempts: int) -> float:
    """After the ``attempts``-th failed try: base, 2 x base, 4 x base ... with 10% jitter."""
    delay = float(settings.SMS_RETRY_BASE) * (2 ** max(0, attempts - 1))
    return round(delay + random.uniform(0, delay * 0.1), 3)


def signed_headers(provider: SmsProvider, message_id: str, body: str) -> dict[str, str]:
    now = datetime.now(dt_timezone.utc)
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature_header(signing_secrets(provider), message_id, now, body)}


def _post(provider: SmsProvider, message: SmsMessage, tenant_slug: str) -> targets.Result:
    body = json.dumps(payloads.adapter_body(message, tenant_slug), separators=(",", ":"), ensure_ascii=False)
    return targets.post(provider.url, body.encode(), signed_headers(provider, message.message_id, body),
                        timeout=float(provider.timeout_seconds))


def _answer(result: targets.Result) -> dict:
    try:
        data = json.loads(result.response_excerpt or "{}")
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


def _judge(message: SmsMessage, result: targets.Result | None, *, final: bool) -> Outcome:
    """Apply one try's answer to ``message`` (not saved yet)."""
    now = timezone.now()
    message.attempts += 1
    message.next_attempt_at = None

    def fail(code: str, reason: str) -> Outcome:
        message.status, message.failed_at = S.FAILED, now
        message.error_code, message.error_message = code[:40], reason[:500]
        return Outcome("failed", reason)

    if result is None:
        return fail("provider_unavailable", "The SMS provider was removed or disabled before the message was sent.")
    answer = _answer(result)
    error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
    reason = str(error.get("message") or result.error or "")[:500]
    if result.succeeded:
        carrier_id = str(answer.get("carrier_message_id") or "")[:100]
        if not carrier_id:
            return fail("adapter_error", "The adapter answered 2xx without a carrier_message_id.")
        message.status, message.sent_at, message.carrier_message_id = S.SENT, now, carrier_id
        message.error_code = message.error_message = ""
        return Outcome("sent")
    status = result.status_code
    if status in (401, 403):
        return fail("adapter_refused",
                    f"The adapter refused the portal's request (HTTP {status}): {reason or 'check its secret'}.")
    if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
        return fail(str(error.get("code") or "carrier_rejected"), reason or f"HTTP {status}")
    detail = reason or result.error or f"HTTP {status}"
    if final or message.attempts > int(settings.SMS_MAX_RETRIES):
        code = str(error.get("code") or ("adapter_unreachable" if status is None else "carrier_unavailable"))
        return fail(code, f"Gave up after {message.attempts} attempts: {detail}")
    delay = retry_delay(message.attempts)
    message.next_attempt_at = now + timedelta(seconds=delay)
    message.error_message = f"Attempt {message.attempts}: {detail}; next try in {delay:.1f} s"[:500]
    return Outcome("retry", detail, delay)


_FIELDS = ["status", "attempts", "next_attempt_at", "carrier_message_id", "sent_at", "failed_at", "error_code",
           "error_message", "updated_at"]


def deliver_batch(tenant, *, ids: list[int] | None = None, limit: int | None = None,
                  final: bool = False) -> dict[int, Outcome]:
    """One try for each claimed message: the queued messages in ``ids`` (whatever their
    ``next_attempt_at``), else up to ``limit`` due ones, oldest first. Returns the outcomes."""
    limit = limit or int(settings.SMS_BATCH_SIZE)
    with schema_context(tenant.schema_name), transaction.atomic():
        now = timezone.now()
        queued = SmsMessage.objects.select_for_update(skip_locked=True).filter(status=S.QUEUED)
        if ids is not None:
            queued = queued.filter(pk__in=ids)
        else:
            queued = queued.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        messages = list(queued.order_by("id")[:limit])
        outcomes: dict[int, Outcome] = {}
        if not messages:
            return {pk: Outcome("skip") for pk in ids or []}
        providers = {p.pk: p for p in SmsProvider.objects.filter(pk__in={m.provider_id for m in messages},
                                                                   enabled=True)}

        def attempt(message: SmsMessage) -> targets.Result | None:
            provider = providers.get(message.provider_id)
            return _post(provider, message, tenant.slug) if provider else None

        threads = max(1, min(int(settings.SMS_SEND_THREADS), len(messages)))
        if threads == 1:
            results = [attempt(m) for m in messages]
        else:
            with ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(attempt, messages))
        for message, result in zip(messages, results):
            message.updated_at = timezone.now()
            outcomes[message.pk] = _judge(message, result, final=final)
        SmsMessage.objects.bulk_update(messages, _FIELDS)
        for message in messages:
            if outcomes[message.pk].result == "sent":
                try:
                    with transaction.atomic():
                        SmsOutboundRef.objects.filter(ref=message.ref).update(
                            carrier_message_id=message.carrier_message_id)
                except IntegrityError:  # an adapter that reuses carrier ids: receipts fall back to our id
                    logger.warning("SMS %s: carrier id %s already used", message.pk, message.carrier_message_id)
        contacts = payloads.contacts_of({m.contact_id for m in messages})
        for kind in ("sent", "failed"):
            data = [payloads.event_data(m, provider_name=getattr(providers.get(m.provider_id), "name", ""),
                                        contact=contacts.get(m.contact_id))
                    for m in messages if outcomes[m.pk].result == kind]
            if data:
                emit_events(type=f"communications.sms.{kind}", data=data, tenant=tenant)
        for pk in ids or []:
            outcomes.setdefault(pk, Outcome("skip"))
        return outcomes


def deliver(message_id: int, tenant, *, final: bool = False) -> Outcome:
    """One try for one message (what a drain does for each message of its batch)."""
    return deliver_batch(tenant, ids=[message_id], final=final)[message_id]
