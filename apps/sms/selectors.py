"""SMS reads that are more than a filter."""
from __future__ import annotations

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery

from apps.sms.models import SmsMessage, SmsSettings
from apps.sms.providers.models import SmsProvider


def provider_for(tenant) -> SmsProvider | None:
    """The provider that sends for ``tenant``: its own, else its reseller's, else the system's
    (the oldest enabled one at each level)."""
    candidates = (SmsProvider.objects.filter(enabled=True)
                  .filter(Q(tenant_id=tenant.pk) | Q(reseller_id=tenant.reseller_id, tenant__isnull=True)
                          | Q(tenant__isnull=True, reseller__isnull=True)))
    best = None
    for provider in candidates.order_by("id"):
        rank = 0 if provider.tenant_id else 1 if provider.reseller_id else 2
        if best is None or rank < best[0]:
            best = (rank, provider)
    return best[1] if best else None


def settings_of() -> SmsSettings:
    """The tenant's SMS settings (the active schema's one row; defaults until saved)."""
    return SmsSettings.objects.filter(pk=1).first() or SmsSettings(pk=1)


def conversations() -> QuerySet:
    """One row per (DID, remote number), newest activity first, with the last message."""
    last = SmsMessage.objects.filter(did=OuterRef("did"), remote=OuterRef("remote")).order_by("-created_at", "-id")
    return (SmsMessage.objects.order_by().values("did", "remote")
            .annotate(messages=Count("id"), last_at=Max("created_at"),
                      inbound=Count("id", filter=Q(direction=SmsMessage.Direction.INBOUND)),
                      last_id=Subquery(last.values("id")[:1]),
                      last_text=Subquery(last.values("text")[:1]),
                      last_direction=Subquery(last.values("direction")[:1]),
                      last_status=Subquery(last.values("status")[:1]),
                      contact_id=Max("contact_id"))
            .order_by("-last_at", "did", "remote"))
