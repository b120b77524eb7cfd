"""Webhook writes: subscriptions, secret rotation, test delivery, resend and recover.

Each validates, persists and records the change (audit) in one transaction. Subscriptions are
configuration, not business events, so they emit no outbox event of their own; the only event
this app emits is ``system.webhook.disabled`` (apps.webhooks.delivery).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.events.models import OutboxEvent
from apps.events.registry import EVENT_TYPES
from apps.webhooks import delivery as engine
from apps.webhooks import signing, targets
from apps.webhooks.matching import selectors_match, unknown_selectors
from apps.webhooks.models import Attempt, Delivery, Subscription
from apps.webhooks.relay import insert_deliveries, message_id_for
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import check_fields, delete, record_change

FIELDS = {"url", "description", "event_types", "enabled", "headers", "secret", "reseller"}
# Headers the protocol or the transport own; a subscriber may not set them.
RESERVED_HEADERS = {
    "content-type", "content-length", "content-encoding", "transfer-encoding", "host", "user-agent",
    "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "proxy-authorization",
    "proxy-connection", "cookie",
}
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
MAX_HEADERS = 20


def secret_overlap() -> timedelta:
    return timedelta(hours=getattr(settings, "WEBHOOK_SECRET_OVERLAP_HOURS", 24))


# --- validation ----------------------------------------------------------------------------

def validate_fields(fields: dict[str, Any], *, kind: str) -> None:
    if "url" in fields:
        try:
            targets.check_url_statically(fields["url"])
        except targets.TargetRefused as exc:
            raise DomainError(str(exc), code="webhook_target_refused", field="url") from exc
    if "event_types" in fields:
        selectors = fields["event_types"]
        if not isinstance(selectors, list) or not all(isinstance(s, str) and s for s in selectors):
            raise Invalid("A list of event types or groups.", field="event_types")
        if kind == Subscription.Kind.TENANT and not selectors:
            raise Invalid("Name at least one event type, group (`crm.*`) or `*`.", field="event_types")
        bad = unknown_selectors(selectors, system_only=kind == Subscription.Kind.SYSTEM)
        if bad:
            what = "system events" if kind == Subscription.Kind.SYSTEM else "event types"
            raise DomainError(f"These selectors match no {what}: {', '.join(bad)}.", code="unknown_event_type",
                              field="event_types")
    if "headers" in fields:
        _validate_headers(fields["headers"])
    if "secret" in fields and not signing.valid_secret(fields["secret"]):
        raise Invalid("A secret is `whsec_` followed by 24 to 64 base64-encoded random bytes.", field="secret")


def _validate_headers(headers: Any) -> None:
    if not isinstance(headers, dict):
        raise Invalid("An object of header names to values.", field="headers")
    if len(headers) > MAX_HEADERS:
        raise Invalid(f"At most {MAX_HEADERS} custom headers.", field="headers")
    for name, value in headers.items():
        if not HEADER_NAME.match(name):
            raise Invalid(f"{name!r} is not a valid header name.", field="headers")
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            raise DomainError(f"The header {name} is reserved.", code="reserved_header", field="headers")
        if not isinstance(value, str) or len(value) > 1000 or any(c in value for c in "\r\n\0"):
            raise Invalid(f"The value of {name} must be a single-line string.", field="headers")


# --- subscriptions -------------------------------------------------------------------------

@transaction.atomic
def subscription_create(*, actor, tenant=None, kind: str = Subscription.Kind.TENANT, url: str,
                        event_types: list[str] | None = None, description: str = "", enabled: bool = True,
                        headers: dict | None = None, secret: str | None = None, reseller=None) -> Subscription:
    """Create a webhook. The plaintext secret is on the returned object, for the create response."""
    if kind == Subscription.Kind.SYSTEM:
        tenant = None
        event_types = event_types if event_types is not None else ["*"]
    else:
        reseller = None
    fields = {"url": url, "event_types": event_types if event_types is not None else [], "headers": headers or {}}
    if secret:
        fields["secret"] = secret
    validate_fields(fields, kind=kind)
    subscription = Subscription.objects.create(
        kind=kind, tenant=tenant, reseller=reseller, url=url, description=description, enabled=enabled,
        event_types=fields["event_types"], headers=fields["headers"], secret=secret or signing.new_secret(),
        created_by=getattr(actor, "label", "")[:200],
    )
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=subscription, tenant=tenant,
                  reseller_id=reseller.pk if reseller is not None else None)
    return subscription


@transaction.atomic
def subscription_update(*, actor, instance: Subscription, tenant=None, **fields: Any) -> Subscription:
    check_fields(fields, FIELDS)
    subscription = Subscription.objects.select_for_update().get(pk=instance.pk)
    before = snapshot(subscription)
    if "reseller" in fields and subscription.kind == Subscription.Kind.TENANT:
        fields.pop("reseller")
    validate_fields(fields, kind=subscription.kind)
    if "secret" in fields:  # setting a secret by hand is a rotation without overlap
        subscription.previous_secret, subscription.previous_secret_expires_at = "", None
    for key, value in fields.items():
        setattr(subscription, key, value)
    if "enabled" in fields and fields["enabled"] != before["enabled"]:
        if fields["enabled"]:  # a fresh start: no failure streak carried over
            subscription.disabled_reason, subscription.disabled_at, subscription.failing_since = "", None, None
        else:
            subscription.disabled_reason = Subscription.DisabledReason.MANUAL
            subscription.disabled_at = timezone.now()
    subscription.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=subscription, before=before,
                  tenant=subscription.tenant if subscription.tenant_id else None,
                  reseller_id=subscription.reseller_id)
    return subscription


@transaction.atomic
def subscription_delete(*, actor, instance: Subscription, tenant=None) -> None:
    owner = instance.tenant if instance.tenant_id else None
    # Deliveries and attempts go with it. No event: subscriptions are not in the catalogue.
    delete(actor=actor, instance=instance, tenant=owner, reseller_id=instance.reseller_id)


@transaction.atomic
def subscription_rotate_secret(*, actor, instance: Subscription, overlap_hours: float | None = None,
                               tenant=None) -> Subscription:
    """A new secret signs from now; the old one keeps signing too during the overlap, so
    receivers can switch without losing a message. The new plaintext is on the returned object."""
    subscription = Subscription.objects.select_for_update().get(pk=instance.pk)
    overlap = secret_overlap() if overlap_hours is None else timedelta(hours=overlap_hours)
    now = timezone.now()
    if overlap > timedelta(0):
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = now + overlap
    else:
        subscription.previous_secret, subscription.previous_secret_expires_at = "", None
    subscription.secret = signing.new_secret()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="rotate-secret", instance=subscription,
                  before=None, tenant=subscription.tenant if subscription.tenant_id else None,
                  reseller_id=subscription.reseller_id)
    return subscription


# --- test, resend, recover -----------------------------------------------------------------

def subscription_test(*, actor, instance: Subscription, event_type: str, tenant=None) -> Attempt:
    """Send a sample event of ``event_type`` now and return the attempt. Logged as a test
    delivery; never retried, and never counts towards auto-disable."""
    known = EVENT_TYPES.get(event_type)
    if known is None:
        raise DomainError(f"No event type {event_type!r}.", code="unknown_event_type", field="event_type")
    now = timezone.now()
    owner = instance.tenant if instance.tenant_id else None
    payload = {
        "type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"),
        "tenant": owner.slug if owner else None, "event_id": str(uuid.uuid4()), "request_id": None,
        "data": known.example, "test": True,
    }
    test = Delivery.objects.create(subscription=instance, event=None, event_type=event_type, is_test=True,
                                   message_id=f"msg_test_{uuid.uuid4().hex}", payload=payload,
                                   next_attempt_at=None)
    result = engine.attempt_once(test, instance)
    attempt = Attempt.objects.create(
        delivery=test, attempted_at=now, succeeded=result.succeeded, status_code=result.status_code,
        duration_ms=result.duration_ms, response_excerpt=result.response_excerpt, error=result.error[:300],
        address=result.address)
    test.status = Delivery.Status.SUCCEEDED if result.succeeded else Delivery.Status.FAILED
    test.attempt_count, test.last_attempt_at = 1, now
    test.last_status_code, test.last_error = result.status_code, result.error[:300]
    test.delivered_at = now if result.succeeded else None
    test.save()
    return attempt


def delivery_resend(*, actor, delivery: Delivery, tenant=None) -> Delivery:
    """Deliver again now (a fresh run of the retry schedule); earlier attempts stay in the log."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
        if not delivery.subscription.enabled:
            raise Conflict("The webhook is disabled; enable it first.", code="webhook_disabled")
        if delivery.is_test:
            raise Conflict("Test deliveries cannot be resent; send a new test.")
        if delivery.status == Delivery.Status.PENDING and delivery.attempt_count == 0:
            return delivery
        now = timezone.now()
        delivery.status, delivery.attempt_count = Delivery.Status.PENDING, 0
        delivery.next_attempt_at = delivery.nudged_at = now
        delivery.save(update_fields=["status", "attempt_count", "next_attempt_at", "nudged_at"])
        transaction.on_commit(lambda: engine.dispatch([delivery.pk]))
    return delivery


def subscription_recover(*, actor, instance: Subscription, since: datetime, until: datetime | None = None,
                         tenant=None) -> dict[str, int]:
    """Replay everything the webhook should have received since ``since``: events it has no
    delivery for (it was disabled, or created later) and deliveries that failed."""
    if not instance.enabled:
        raise Conflict("The webhook is disabled; enable it first.", code="webhook_disabled")
    now = timezone.now()
    until = until or now
    events = OutboxEvent.objects.filter(occurred_at__gte=since, occurred_at__lt=until, relayed_at__isnull=False)
    if instance.kind == Subscription.Kind.TENANT:
        events = events.filter(tenant_id=instance.tenant_id)
    else:
        events = events.filter(system=True)
        if instance.reseller_id:
            events = events.filter(reseller_id=instance.reseller_id)
    selectors = instance.event_types or ["*"]
    rows = [(instance.pk, e.pk, e.type, message_id_for(e))
            for e in events.only("id", "event_id", "type").iterator(chunk_size=2000)
            if selectors_match(selectors, e.type)]
    with transaction.atomic():
        created = insert_deliveries(rows, now=now)
        failed = list(Delivery.objects.select_for_update(skip_locked=True)
                      .filter(subscription=instance, status=Delivery.Status.FAILED, is_test=False,
                              event__occurred_at__gte=since, event__occurred_at__lt=until)
                      .values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=failed).update(status=Delivery.Status.PENDING, attempt_count=0,
                                                       next_attempt_at=now, nudged_at=now)
        record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="recover", instance=instance,
                      tenant=instance.tenant if instance.tenant_id else None, reseller_id=instance.reseller_id)
        ids = created + failed
        transaction.on_commit(lambda: engine.dispatch(ids))
    return {"created": len(created), "requeued": len(failed)}
