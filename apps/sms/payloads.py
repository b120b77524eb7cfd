"""What an SMS looks like outside the portal: event data and the body POSTed to an adapter."""
from __future__ import annotations

from apps.sms.models import SmsMessage


def contacts_of(ids) -> dict[int, dict]:
    """The event form of CRM contacts, by id, in one query."""
    from apps.crm.models import Contact

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {c.pk: {"id": c.pk, "name": c.full_name or c.email,
                   "account": {"id": c.account_id, "name": c.account.name} if c.account_id else None}
            for c in Contact.objects.select_related("account").filter(pk__in=ids)}


def contact_of(contact_id: int | None) -> dict | None:
    return contacts_of([contact_id]).get(contact_id) if contact_id else None


def event_data(message: SmsMessage, *, provider_name: str = "", contact: dict | None = None) -> dict:
    outbound = message.direction == SmsMessage.Direction.OUTBOUND
    return {
        "message_id": message.message_id, "id": message.pk, "direction": message.direction,
        "status": message.status, "from": message.did if outbound else message.remote,
        "to": message.remote if outbound else message.did, "did": message.did, "text": message.text,
        "encoding": message.encoding, "segments": message.segments,
        "carrier_message_id": message.carrier_message_id, "error_code": message.error_code,
        "error_message": message.error_message, "provider": provider_name,
        "contact": contact if contact is not None else contact_of(message.contact_id),
    }


def adapter_body(message: SmsMessage, tenant_slug: str) -> dict:
    """The outbound message as the portal POSTs it to an adapter (docs/sms.md, "Adapter protocol")."""
    return {"type": "sms.outbound", "message_id": message.message_id, "tenant": tenant_slug,
            "from": message.did, "to": message.remote, "text": message.text,
            "encoding": message.encoding, "segments": message.segments}
