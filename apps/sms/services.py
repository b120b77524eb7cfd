"""SMS writes: send (queue), inbound messages, delivery receipts, opt-outs, the tenant's settings.

    POST /api/sms/<tenant>/messages/   -> message_send: checks, SmsMessage (queued) + audit entry +
                                          public SmsOutboundRef, one transaction; on commit the
                                          sms.send_message task (apps.sms.delivery does the POST)
    POST /api/sms/inbound/<provider>   -> inbound_receive / receipt_apply (the adapter's calls)

Everything a send is checked against is the tenant's own schema: another tenant's DID is simply
not there (``reference_not_found``), like any other reference.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from rest_framework.exceptions import Throttled

from apps.accounts.principal import Principal
from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.events.services import emit_event, emit_events
from apps.sms import payloads
from apps.sms.models import SmsMessage, SmsOptOut, SmsSettings
from apps.sms.providers.models import SmsOutboundRef, SmsProvider
from apps.sms.segments import segment
from apps.sms.selectors import provider_for, settings_of
from apps.telephony.models import Did
from thirdlane.api.errors import Conflict, DomainError
from thirdlane.ratelimit import limiter
from thirdlane.services import check_fields, clean, delete, record_change

logger = logging.getLogger(__name__)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "SUBSCRIBE", "OPTIN"}
SEND_FIELDS = {"from", "to", "text"}
SETTINGS_FIELDS = {"max_segments", "rate_per_minute"}
OPT_OUT_FIELDS = {"did", "remote"}
S = SmsMessage.Status


def e164(value: str, field: str) -> str:
    number = (value or "").strip()
    if not E164.match(number):
        raise DomainError(f"{number!r} is not an E.164 number (+ and 7-15 digits).", code="invalid_e164", field=field)
    return number


# --- settings --------------------------------------------------------------------------------------

@transaction.atomic
def sms_settings_update(*, actor, tenant, instance: SmsSettings | None = None, **fields: Any) -> SmsSettings:
    """Change the tenant's SMS settings (``instance``, when given, is the row the caller read)."""
    check_fields(fields, SETTINGS_FIELDS)
    current, _ = SmsSettings.objects.select_for_update().get_or_create(pk=1)
    before = snapshot(current)
    for name, value in fields.items():
        setattr(current, name, value)
    clean(current)
    current.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=current, before=before, tenant=tenant)
    return current


# --- sending ---------------------------------------------------------------------------------------

def _sms_did(number: str, field: str = "from") -> Did:
    did = Did.objects.filter(number=number, enabled=True).first()
    if did is None:
        raise DomainError(f"{number} is not one of this tenant's DIDs.", code="reference_not_found", field=field)
    if not did.sms_enabled:
        raise DomainError(f"{number} is not enabled for SMS.", code="did_not_sms_capable", field=field)
    return did


def _rate_limit(tenant, per_minute: int | None) -> None:
    """The tenant's outbound budget (GCRA in Redis, shared by every web worker); a refused send
    stores nothing. Redis being down does not stop sending (the API limits behave the same)."""
    limit = per_minute or int(settings.SMS_RATE_PER_TENANT)
    decision = limiter.hit([limiter.Bucket("sms", f"rl:sms:{tenant.pk}", limit, 60)])
    if decision is not None and not decision.allowed:
        raise Throttled(wait=max(1, decision.retry_after),
                        detail=f"The tenant's SMS budget ({limit} a minute) is spent.")


def message_send(*, actor, tenant, **fields: Any) -> SmsMessage:
    """Check and queue one outbound SMS; the worker hands it to the provider's adapter."""
    check_fields(fields, SEND_FIELDS)
    did = _sms_did(e164(fields.get("from", ""), "from"))
    to = e164(fields.get("to", ""), "to")
    text = fields.get("text") or ""
    if not text.strip() or "\x00" in text:
        raise DomainError("The text is empty.", code="validation_error", field="text")
    rules = settings_of()
    parts = segment(text)
    if parts.segments > rules.max_segments:
        raise DomainError(f"The text takes {parts.segments} {parts.encoding.upper()} segments; this tenant allows "
                          f"{rules.max_segments}.", code="text_too_long", field="text",
                          extra={"segments": parts.segments, "encoding": parts.encoding,
                                 "max_segments": rules.max_segments})
    if SmsOptOut.objects.filter(did=did.number, remote=to).exists():
        raise Conflict(f"{to} opted out of messages from {did.number} (STOP); they can reply START.",
                       code="recipient_opted_out", field="to")
    provider = provider_for(tenant)
    if provider is None:
        raise Conflict("No enabled SMS provider serves this tenant.", code="no_sms_provider")
    _rate_limit(tenant, rules.rate_per_minute)
    with transaction.atomic():
        message = SmsMessage.objects.create(
            direction=SmsMessage.Direction.OUTBOUND, status=S.QUEUED, did=did.number, remote=to, text=text,
            encoding=parts.encoding, segments=parts.segments, provider_id=provider.pk,
            contact_id=_match_contact(tenant, to), requested_by=str(getattr(actor, "label", "") or "")[:150])
        SmsOutboundRef.objects.create(ref=message.ref, provider=provider, tenant=tenant, message_id=message.pk)
        record_change(actor=actor, action=AuditEntry.Action.ACTION, instance=message, tenant=tenant,
                      verb="sms.send")
        message_id, tenant_id = message.pk, tenant.pk
        transaction.on_commit(lambda: enqueue(message_id, tenant_id))
    return message


def enqueue(message_id: int, tenant_id: int) -> None:
    """After the send committed: make sure a drain of the tenant's queue will run."""
    from apps.sms.tasks import kick

    try:
        kick(tenant_id)
    except Exception:  # the message stays queued; sms.requeue_stale (beat) queues a drain
        import logging

        logging.getLogger(__name__).warning("could not queue SMS %s", message_id, exc_info=True)


# --- what comes back from the adapter --------------------------------------------------------------

def _match_contact(tenant, number: str) -> int | None:
    from apps.crm.phones import PhoneError
    from apps.crm.selectors import contacts_by_phone

    try:
        return contacts_by_phone(number, tenant.default_region or "US").values_list("pk", flat=True).first()
    except (PhoneError, ValueError):
        return None


def route_inbound(provider: SmsProvider, number: str):
    """The tenant whose SMS-capable DID ``number`` is, among the tenants ``provider`` serves."""
    from apps.telephony.selectors import did_owner
    from apps.tenants.models import Tenant

    if provider.tenant_id:
        tenant = provider.tenant
    else:
        slug = did_owner(number)
        tenant = Tenant.objects.select_related("reseller").filter(slug=slug).first() if slug else None
        if tenant is not None and provider.reseller_id and tenant.reseller_id != provider.reseller_id:
            tenant = None
    if tenant is not None:
        with schema_context(tenant.schema_name):
            did = Did.objects.filter(number=number, enabled=True).values_list("sms_enabled", flat=True).first()
        if did is None:
            tenant = None
        elif not did:
            raise DomainError(f"{number} is not enabled for SMS.", code="did_not_sms_capable", field="to")
    if tenant is None:
        raise DomainError(f"No SMS-capable DID served by this provider has the number {number}.",
                          code="sms_number_unknown", field="to")
    return tenant


def _opt_out(message: SmsMessage) -> None:
    word = message.text.strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        SmsOptOut.objects.get_or_create(did=message.did, remote=message.remote, defaults={"keyword": word})
    elif word in START_WORDS:
        SmsOptOut.objects.filter(did=message.did, remote=message.remote).delete()


@transaction.atomic
def opt_out_create(*, actor, tenant, **fields: Any) -> SmsOptOut:
    """Opt ``remote`` out of messages from the tenant's SMS-capable ``did``, as its STOP would
    (keyword ``API``); sends to it are refused (409 ``recipient_opted_out``) until removed."""
    check_fields(fields, OPT_OUT_FIELDS)
    did = _sms_did(e164(fields.get("did", ""), "did"), field="did")
    remote = e164(fields.get("remote", ""), "remote")
    opt_out, created = SmsOptOut.objects.get_or_create(did=did.number, remote=remote, defaults={"keyword": "API"})
    if not created:
        raise Conflict(f"{remote} has already opted out of messages from {did.number}.", code="duplicate",
                       field="remote")
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=opt_out, tenant=tenant)
    return opt_out


@transaction.atomic
def opt_out_delete(*, actor, tenant, instance: SmsOptOut) -> None:
    """Opt the number back in, as its START would."""
    delete(actor=actor, instance=instance, tenant=tenant)


def _log_to_crm(tenant, message: SmsMessage) -> None:
    """An inbound SMS from a known contact becomes a note on the contact, written by the CRM's
    own service (audit entry and ``crm.activity.created`` like any activity)."""
    from apps.crm.models import Activity
    from apps.crm.services import activity_create

    try:
        with transaction.atomic():
            activity_create(actor=Principal.system("sms"), tenant=tenant, kind=Activity.Kind.NOTE,
                            subject=f"SMS from {message.remote} to {message.did}",
                            body=message.text, contact_id=message.contact_id, occurred_at=message.created_at)
    except DomainError:  # the CRM refused the note (a rule of its own): the SMS itself is kept
        logger.warning("SMS %s: the CRM refused its note", message.message_id, exc_info=True)


def _match_contacts(senders: set[str]) -> dict[str, int | None]:
    """The CRM contact of each sender (E.164 already), with one query for all of them."""
    from django.db.models import Q

    from apps.crm.models import Contact

    found: dict[str, int | None] = dict.fromkeys(senders)
    if senders:
        rows = (Contact.objects.filter(Q(phone__in=senders) | Q(mobile__in=senders) | Q(work_phone__in=senders))
                .order_by("-id").values_list("pk", "phone", "mobile", "work_phone"))
        for pk, *numbers in rows:  # the lowest id wins, as in the CRM's own look-up
            for number in numbers:
                if number in found:
                    found[number] = pk
    return found


def _store_inbound(provider: SmsProvider, tenant, *, carrier_message_id: str, sender: str, to: str,
                   text: str, contact_ids: dict | None = None, contacts: dict | None = None) -> tuple[SmsMessage, bool]:
    """Store one inbound SMS in the active tenant schema, inside the caller's transaction (its own
    savepoint): once per carrier id, STOP/START, the CRM note, ``communications.sms.received``."""
    inbound = SmsMessage.Direction.INBOUND
    existing = SmsMessage.objects.filter(provider_id=provider.pk, direction=inbound,
                                         carrier_message_id=carrier_message_id).first()
    if existing is not None:
        return existing, False
    if contact_ids is None or sender not in contact_ids:
        contact_id = _match_contact(tenant, sender)
        if contact_ids is not None:
            contact_ids[sender] = contact_id
    else:
        contact_id = contact_ids[sender]
    parts = segment(text)
    try:
        with transaction.atomic():
            message = SmsMessage.objects.create(
                direction=inbound, status=S.RECEIVED, did=to, remote=sender, text=text, encoding=parts.encoding,
                segments=parts.segments, provider_id=provider.pk, carrier_message_id=carrier_message_id,
                contact_id=contact_id)
            _opt_out(message)
            if message.contact_id:
                _log_to_crm(tenant, message)
            contacts = {} if contacts is None else contacts
            if message.contact_id and message.contact_id not in contacts:
                contacts.update(payloads.contacts_of([message.contact_id]))
            emit_event(type="communications.sms.received", tenant=tenant,
                       data=payloads.event_data(message, provider_name=provider.name,
                                                contact=contacts.get(message.contact_id)))
    except IntegrityError:  # the same message, posted twice at once: the other request stored it
        existing = SmsMessage.objects.filter(provider_id=provider.pk, direction=inbound,
                                             carrier_message_id=carrier_message_id).first()
        if existing is None:
            raise
        return existing, False
    return message, True


def inbound_receive(*, provider: SmsProvider, carrier_message_id: str, sender: str, to: str,
                    text: str) -> tuple[SmsMessage, bool]:
    """Store one inbound SMS (once: a repeated carrier id returns the stored one, created=False),
    apply STOP/START, log it on the matched contact, emit ``communications.sms.received``."""
    sender, to = e164(sender, "from"), e164(to, "to")
    tenant = route_inbound(provider, to)
    with schema_context(tenant.schema_name), transaction.atomic():
        message, created = _store_inbound(provider, tenant, carrier_message_id=carrier_message_id, sender=sender,
                                          to=to, text=text)
    message.tenant_slug = tenant.slug
    return message, created


def inbound_batch(*, provider: SmsProvider, items: list[dict]) -> list[tuple[SmsMessage, str] | Exception]:
    """Many inbound messages and receipts from one adapter POST, in order: each outcome is
    (message, "stored"|"duplicate"|"applied"|"unchanged") or the DomainError that refused it.
    Messages to one tenant are stored in one transaction (one commit), each in its own savepoint,
    so one refused item never undoes another; each distinct number is routed once."""
    results: list = [None] * len(items)
    routes: dict[str, Any] = {}
    by_tenant: dict[int, list[int]] = {}
    tenants: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            if item["type"] == "receipt":
                message, changed = receipt_apply(
                    provider=provider, carrier_message_id=item["carrier_message_id"], status=item["status"],
                    message_id=item.get("message_id", ""), error_code=item.get("error_code", ""),
                    reason=item.get("reason", ""))
                results[index] = (message, "applied" if changed else "unchanged")
                continue
            to = e164(item["to"], "to")
            e164(item["from"], "from")
            if to not in routes:
                try:
                    routes[to] = route_inbound(provider, to)
                except DomainError as exc:
                    routes[to] = exc
            if isinstance(routes[to], DomainError):
                raise routes[to]
            tenants[routes[to].pk] = routes[to]
            by_tenant.setdefault(routes[to].pk, []).append(index)
        except DomainError as exc:
            results[index] = exc
    for tenant_id, indexes in by_tenant.items():
        with schema_context(tenants[tenant_id].schema_name):
            _store_batch(provider, tenants[tenant_id], [(i, items[i]) for i in indexes], results)
    return results


def _store_batch(provider: SmsProvider, tenant, batch: list[tuple[int, dict]], results: list) -> None:
    """One tenant's inbound messages of a batch: duplicates found with one query, contacts with
    one, the new messages inserted with one and their events with one, in one transaction. A
    concurrent writer that stored one of them first makes the batch fall back to one savepoint
    per message, which finds it (``duplicate``)."""
    inbound = SmsMessage.Direction.INBOUND
    with transaction.atomic():
        existing = {m.carrier_message_id: m for m in SmsMessage.objects.filter(
            provider_id=provider.pk, direction=inbound, carrier_message_id__in=[i["carrier_message_id"] for _, i in batch])}
        contact_ids = _match_contacts({item["from"] for _, item in batch})
        new: list[tuple[int, SmsMessage]] = []
        repeats: list[tuple[int, str]] = []
        for index, item in batch:
            carrier_id = item["carrier_message_id"]
            if carrier_id in existing:
                results[index] = (existing[carrier_id], "duplicate")
            elif any(m.carrier_message_id == carrier_id for _, m in new):
                repeats.append((index, carrier_id))
            else:
                parts = segment(item["text"])
                new.append((index, SmsMessage(
                    direction=inbound, status=S.RECEIVED, did=item["to"], remote=item["from"], text=item["text"],
                    encoding=parts.encoding, segments=parts.segments, provider_id=provider.pk,
                    carrier_message_id=carrier_id, contact_id=contact_ids.get(item["from"]))))
        try:
            with transaction.atomic():
                SmsMessage.objects.bulk_create([m for _, m in new])
        except IntegrityError:
            for index, item in batch:
                if results[index] is None:
                    try:
                        results[index] = _one_of_batch(provider, tenant, item)
                    except DomainError as exc:
                        results[index] = exc
            new, repeats = [], []
        for _, message in new:  # (empty after a fallback: those were stored one by one)
            _opt_out(message)
            if message.contact_id:
                _log_to_crm(tenant, message)
        contacts = payloads.contacts_of({m.contact_id for _, m in new})
        if new:
            emit_events(type="communications.sms.received", tenant=tenant, data=[
                payloads.event_data(m, provider_name=provider.name, contact=contacts.get(m.contact_id))
                for _, m in new])
        stored = {m.carrier_message_id: m for _, m in new}
        for index, message in new:
            results[index] = (message, "stored")
        for index, carrier_id in repeats:
            results[index] = (stored[carrier_id], "duplicate")
    for index, _ in batch:
        if isinstance(results[index], tuple):
            results[index][0].tenant_slug = tenant.slug


def _one_of_batch(provider: SmsProvider, tenant, item: dict) -> tuple[SmsMessage, str]:
    with transaction.atomic():
        message, created = _store_inbound(provider, tenant, carrier_message_id=item["carrier_message_id"],
                                          sender=item["from"], to=item["to"], text=item["text"])
    return message, "stored" if created else "duplicate"


RECEIPT_STATUSES = {"sent": S.SENT, "delivered": S.DELIVERED, "failed": S.FAILED}
# Which status a receipt may move a message from (a late "sent" never undoes "delivered").
_FROM = {S.SENT: {S.QUEUED}, S.DELIVERED: {S.QUEUED, S.SENT}, S.FAILED: {S.QUEUED, S.SENT}}


def receipt_apply(*, provider: SmsProvider, carrier_message_id: str, status: str, message_id: str = "",
                  error_code: str = "", reason: str = "") -> tuple[SmsMessage, bool]:
    """Apply a delivery receipt to the outbound message it names (by the carrier's id, else by
    our ``message_id``); applied=False when the message already had that status or a later one."""
    ref = SmsOutboundRef.objects.select_related("tenant").filter(
        provider=provider, carrier_message_id=carrier_message_id).first()
    if ref is None and message_id.startswith("sms_"):
        try:
            ref = SmsOutboundRef.objects.select_related("tenant").filter(provider=provider,
                                                                         ref=message_id[4:]).first()
        except Exception:  # not a UUID
            ref = None
    if ref is None:
        raise DomainError(f"No outbound message of this provider has the id {carrier_message_id!r}.",
                          code="sms_message_not_found", field="carrier_message_id")
    new = RECEIPT_STATUSES[status]
    with schema_context(ref.tenant.schema_name), transaction.atomic():
        # Waits for a send still being recorded (the worker holds the row while the adapter answers).
        message = SmsMessage.objects.select_for_update().get(pk=ref.message_id)
        message.tenant_slug = ref.tenant.slug
        if message.status not in _FROM[new]:
            return message, False
        now = timezone.now()
        message.status = new
        message.carrier_message_id = message.carrier_message_id or carrier_message_id
        if new == S.SENT or not message.sent_at:
            message.sent_at = message.sent_at or now
        if new == S.DELIVERED:
            message.delivered_at = now
        if new == S.FAILED:
            message.failed_at = now
            message.error_code = (error_code or "carrier_failed")[:40]
            message.error_message = (reason or "The carrier reported the message undelivered.")[:500]
        message.save()
        emit_event(type=f"communications.sms.{new}", tenant=ref.tenant,
                   data=payloads.event_data(message, provider_name=provider.name))
    return message, True
