"""Shared write helpers: every service ends a write with ``record_change``.

``record_change`` writes the audit entry and the outbox event in the caller's transaction, so
a change, its audit trail and its event commit (or roll back) together. ``model_create`` /
``model_update`` / ``model_delete`` are the whole service for objects that need nothing more
than field validation (the base viewsets use them when a viewset declares no service).
"""
from __future__ import annotations

from typing import Any, Callable

from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from apps.audit.models import AuditEntry
from apps.audit.services import audit_record, snapshot
from apps.events.services import emit_event
from thirdlane.api.errors import InUse
from thirdlane.context import current_source


def record_change(*, actor, action: str, instance: models.Model, before: dict | None = None,
                  tenant=None, event_type: str | None = None, event_data: dict | None = None,
                  verb: str = "", reseller_id: int | None = None) -> None:
    after = None if action == AuditEntry.Action.DELETE else snapshot(instance)
    audit_record(actor=actor, action=action, instance=instance, before=before, after=after, tenant=tenant,
                 verb=verb, reseller_id=reseller_id, source=current_source())
    if event_type:
        emit_event(type=event_type, data=event_data if event_data is not None else {}, tenant=tenant,
                   reseller_id=reseller_id if tenant is None else None)


def _event(prefix: str | None, verb: str) -> str | None:
    return f"{prefix}.{verb}" if prefix else None


def protected_delete(instance: models.Model) -> None:
    """Delete, turning a protected relation into 409 ``in_use`` that names the users."""
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        users = sorted({f"{o._meta.verbose_name} {o}" for o in list(exc.args[1])[:10]})
        raise InUse(f"{instance._meta.verbose_name.capitalize()} is still used by: {', '.join(users)}.",
                    extra={"used_by": users}) from exc


@transaction.atomic
def model_create(*, actor, model: type[models.Model], data: dict[str, Any], tenant=None,
                 event_prefix: str | None = None, payload: Callable[[Any], dict] | None = None,
                 m2m: dict[str, Any] | None = None) -> models.Model:
    instance = model(**data)
    instance.full_clean(validate_unique=True, validate_constraints=True)
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=instance, tenant=tenant,
                  event_type=_event(event_prefix, "created"), event_data=payload(instance) if payload else None)
    return instance


@transaction.atomic
def model_update(*, actor, instance: models.Model, data: dict[str, Any], tenant=None,
                 event_prefix: str | None = None, payload: Callable[[Any], dict] | None = None,
                 m2m: dict[str, Any] | None = None) -> models.Model:
    before = snapshot(instance)
    for key, value in data.items():
        setattr(instance, key, value)
    instance.full_clean(validate_unique=True, validate_constraints=True)
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=instance, before=before, tenant=tenant,
                  event_type=_event(event_prefix, "updated"), event_data=payload(instance) if payload else None)
    return instance


@transaction.atomic
def model_delete(*, actor, instance: models.Model, tenant=None, event_prefix: str | None = None,
                 payload: Callable[[Any], dict] | None = None) -> None:
    before = snapshot(instance)
    data = payload(instance) if payload else None
    pk = instance.pk
    protected_delete(instance)
    instance.pk = pk  # keep the id for the audit entry
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, instance=instance, before=before, tenant=tenant,
                 source=current_source())
    if event_prefix:
        emit_event(type=f"{event_prefix}.deleted", data=data if data is not None else {"id": pk}, tenant=tenant)
