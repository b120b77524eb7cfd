"""audit_record: one row per write, whatever the path (API, admin, command)."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models

from apps.audit.models import AuditEntry
from thirdlane.context import current_request_id

# Never copied into an audit entry, whatever the model.
SECRET_FIELD_MARKERS = ("secret", "password", "key_hash", "pin")


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model | None) -> dict | None:
    """The concrete field values of a model instance, secrets masked."""
    if instance is None:
        return None
    out = {}
    for f in instance._meta.concrete_fields:
        name = f.attname
        if any(marker in f.name.lower() for marker in SECRET_FIELD_MARKERS):
            out[f.name] = "***" if getattr(instance, name) else ""
        else:
            out[f.name if not f.is_relation else name] = _plain(getattr(instance, name))
    return out


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only the changed keys of an update (both sides), all keys of a create/delete."""
    if before is None or after is None:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k) and k != "updated_at"]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def audit_record(*, actor, action: str, instance: models.Model | None = None, object_type: str = "",
                 object_id: str = "", object_repr: str = "", before: dict | None = None,
                 after: dict | None = None, tenant=None, reseller_id: int | None = None,
                 verb: str = "", source: str = AuditEntry.Source.API) -> AuditEntry:
    entry = audit_entry(actor=actor, action=action, instance=instance, object_type=object_type, object_id=object_id,
                        object_repr=object_repr, before=before, after=after, tenant=tenant, reseller_id=reseller_id,
                        verb=verb, source=source)
    entry.save()
    return entry


def audit_record_many(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Write entries made by ``audit_entry`` with one INSERT (bulk services)."""
    return AuditEntry.objects.bulk_create(entries, batch_size=500)


def audit_entry(*, actor, action: str, instance: models.Model | None = None, object_type: str = "",
                object_id: str = "", object_repr: str = "", before: dict | None = None,
                after: dict | None = None, tenant=None, reseller_id: int | None = None,
                verb: str = "", source: str = AuditEntry.Source.API) -> AuditEntry:
    """An unsaved audit entry: who (``actor``), what (``instance`` or the object_* fields), the
    change (an update keeps only the changed keys), whose (``tenant`` or ``reseller_id``)."""
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or str(instance.pk or "")
        object_repr = object_repr or str(instance)[:200]
    if action == AuditEntry.Action.UPDATE:
        before, after = diff(before, after)
    if tenant is not None:
        reseller_id = reseller_id or tenant.reseller_id
    return AuditEntry(
        actor_type=getattr(actor, "kind", "system"), actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "label", "system")[:150],
        reseller_id=reseller_id, tenant_id=tenant.pk if tenant is not None else None,
        tenant_slug=tenant.slug if tenant is not None else "", action=action, verb=verb,
        object_type=object_type, object_id=object_id, object_repr=object_repr[:200],
        before=before, after=after, request_id=current_request_id() or "", source=source,
    )
