"""CRM reads that are more than a filter (the tenant's schema must be active)."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.crm.models import Contact
from apps.crm.phones import to_e164


def contacts_by_phone(raw: str, region: str = "US") -> QuerySet[Contact]:
    """Contacts whose phone, mobile or work phone is this number, in any format, with their
    account. Raises ``apps.crm.phones.PhoneError`` when the input is not a phone number."""
    number = to_e164(raw, region)
    return (Contact.objects.select_related("account")
            .filter(Q(phone=number) | Q(mobile=number) | Q(work_phone=number)).order_by("id"))


def caller_name(raw: str, region: str = "US") -> str:
    """The name to show for a caller id ("Ada Lovelace (Analytical Engines)"), or "" (AGI, screen pop)."""
    try:
        contact = contacts_by_phone(raw, region).first()
    except ValueError:
        return ""
    if contact is None:
        return ""
    name = contact.full_name or contact.email
    account = contact.account.name if contact.account_id else ""
    return f"{name} ({account})" if name and account else (name or account)
