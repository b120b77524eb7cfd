"""Reads of phones: the list queryset (a constant number of queries whatever its length)."""
from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery

from apps.provisioning.models import Phone, PhoneLine
from apps.provisioning.registry.models import Device


def phone_list():
    """Phones with their lines and extensions (one prefetch query) and, from the platform index,
    when each last fetched its configuration (subqueries on the unique MAC: no query per row)."""
    seen = Device.objects.filter(mac=OuterRef("mac"))
    lines = PhoneLine.objects.select_related("extension").only(
        "id", "phone_id", "position", "label", "extension__id", "extension__number", "extension__name")
    return (Phone.objects.defer("admin_password")
            .prefetch_related(Prefetch("lines", queryset=lines.order_by("position")))
            .annotate(last_seen_at=Subquery(seen.values("last_seen_at")[:1]),
                      last_seen_ip=Subquery(seen.values("last_seen_ip")[:1])))
