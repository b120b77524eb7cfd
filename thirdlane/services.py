"""The write kernel: the few steps every service function is made of.

A service (``extension_create(*, actor, tenant, **fields)``) runs in one transaction and goes:

    check_fields(fields, ALLOWED)         a field the object does not have: 400, per field
    ... its own rules (limits, cross-object checks, locks) ...
    clean(instance)                       model validation, errors named by field (and prefix)
    save(instance, field=...)             persist; a unique violation is 409 ``duplicate``
    record_created / record_updated       audit entry + outbox event, in the same transaction
    delete(...)                           the one delete sequence (snapshot, protected delete,
                                          audit + event); ``check`` refuses objects still in use
    record_created_many                   the bulk variant: one INSERT for entries, one for events
    record_updated_many                   re-published objects (one INSERT of events, no audit)

``record_change`` is the primitive under all of them (and for actions such as suspend).
The admin calls the same service functions as the API, so both leave the same trail.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from apps.audit.models import AuditEntry
from apps.audit.services import audit_entry, audit_record, audit_record_many, snapshot
from apps.events.services import emit_event, emit_events
from thirdlane.api.errors import Conflict, InUse, Invalid
from thirdlane.context import current_source

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNIQUE_CODES = {"unique", "unique_together"}


# --- validation --------------------------------------------------------------------------------
def check_fields(fields: dict[str, Any] | Iterable[str], allowed: Iterable[str]) -> None:
    """400 with an ``unknown_field`` error per name that is not ``allowed``."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Invalid(f"Unknown fields: {', '.join(sorted(unknown))}.",
                      errors={name: [{"code": "unknown_field", "message": "Not a field of this object."}]
                              for name in sorted(unknown)})


def clean(instance: models.Model, *, prefix: str = "", exclude: list[str] | None = None,
          unique: bool = False, one_line: bool = False) -> None:
    """Model validation (choices, lengths, validators) with errors named ``<prefix>.<field>``.

    ``unique`` also checks unique fields and constraints, a clash being 409 ``duplicate``;
    ``one_line`` refuses line breaks and control characters in short text (it ends up in PBX
    config files and dialplan arguments).
    """
    errors: dict[str, list] = {}
    try:
        instance.full_clean(exclude=exclude, validate_unique=unique, validate_constraints=unique)
    except ValidationError as exc:
        details = exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
        clashes = {name: items for name, items in details.items()
                   if any(e.code in _UNIQUE_CODES for e in items)
                   or (name == "__all__" and all(e.code is None for e in items))}
        if clashes and unique:
            raise Conflict(f"{_noun(instance)} with this identity already exists.", code="duplicate",
                           errors={_key(prefix, name): [{"code": "duplicate", "message": " ".join(e.messages)}
                                                        for e in items] for name, items in clashes.items()}) from None
        for name, items in details.items():
            errors[_key(prefix, name)] = [{"code": e.code or "invalid", "message": m}
                                          for e in items for m in e.messages]
    if one_line:
        for field in instance._meta.concrete_fields:
            value = getattr(instance, field.attname, None)
            if type(field) is models.CharField and isinstance(value, str) and _CONTROL.search(value):
                errors.setdefault(_key(prefix, field.name), []).append(
                    {"code": "invalid", "message": "Control characters (line breaks, tabs) are not allowed."})
    if errors:
        raise Invalid("Invalid fields: " + ", ".join(sorted(errors)) + ".", errors=errors)


def _key(prefix: str, name: str) -> str:
    if name == "__all__":
        return prefix or "non_field_errors"
    return f"{prefix}.{name}" if prefix else name


def _noun(instance: models.Model) -> str:
    noun = str(instance._meta.verbose_name)
    return noun[:1].upper() + noun[1:]


def save(instance: models.Model, *, field: str | None = None,
         conflict: Callable[[IntegrityError], Exception] | None = None, **kwargs) -> None:
    """Save; a unique violation that slipped past the checks (a concurrent writer won) is a 409,
    never a 500. ``conflict`` turns the error into a more precise one."""
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        if conflict is not None:
            raise conflict(exc) from exc
        raise Conflict(f"{_noun(instance)} conflicts with an existing one.", code="duplicate", field=field) from exc


# --- recording ---------------------------------------------------------------------------------
def record_change(*, actor, action: str, instance: models.Model, before: dict | None = None,
                  tenant=None, event_type: str | None = None, event_data: dict | None = None,
                  verb: str = "", reseller_id: int | None = None) -> None:
    """The audit entry and the outbox event of one change, in the caller's transaction: the
    change, its trail and its event commit (or roll back) together."""
    after = None if action == AuditEntry.Action.DELETE else snapshot(instance)
    audit_record(actor=actor, action=action, instance=instance, before=before, after=after, tenant=tenant,
                 verb=verb, reseller_id=reseller_id, source=current_source())
    if event_type:
        emit_event(type=event_type, data=event_data if event_data is not None else {}, tenant=tenant,
                   reseller_id=reseller_id if tenant is None else None)


def _event(prefix: str | None, verb: str) -> str | None:
    return f"{prefix}.{verb}" if prefix else None


def record_created(*, actor, instance: models.Model, prefix: str | None = None, payload: dict | None = None,
                   tenant=None, reseller_id: int | None = None) -> None:
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=instance, tenant=tenant,
                  reseller_id=reseller_id, event_type=_event(prefix, "created"), event_data=payload)


def record_updated(*, actor, instance: models.Model, before: dict | None, prefix: str | None = None,
                   payload: dict | None = None, tenant=None, reseller_id: int | None = None) -> None:
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=instance, before=before, tenant=tenant,
                  reseller_id=reseller_id, event_type=_event(prefix, "updated"), event_data=payload)


def record_created_many(*, actor, tenant, instances: list[models.Model], prefix: str,
                        payloads: list[dict], verb: str = "bulk_create") -> None:
    """Audit entries and events of a bulk creation: one INSERT each, whatever the count."""
    source = current_source()
    audit_record_many([audit_entry(actor=actor, action=AuditEntry.Action.CREATE, instance=instance,
                                   after=snapshot(instance), tenant=tenant, verb=verb, source=source)
                       for instance in instances])
    emit_events(type=f"{prefix}.created", data=payloads, tenant=tenant)


def record_updated_many(*, tenant, prefix: str, payloads: list[dict]) -> None:
    """``<prefix>.updated`` events for objects whose rows did not change but whose published view
    did (a tenant moved to another server changes every extension's ``primary_server``): one
    INSERT whatever the count, no audit entry (the audited change is the one that caused it)."""
    if payloads:
        emit_events(type=f"{prefix}.updated", data=payloads, tenant=tenant)


def protected_delete(instance: models.Model) -> None:
    """Delete, turning a protected relation into 409 ``in_use`` that names the users."""
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        users = sorted({f"{o._meta.verbose_name} {o}" for o in list(exc.args[1])[:10]})
        raise InUse(f"{_noun(instance)} is still used by: {', '.join(users)}.", extra={"used_by": users}) from exc


def delete(*, actor, instance: models.Model, prefix: str | None = None, payload: dict | None = None,
           tenant=None, reseller_id: int | None = None, event_type: str | None = None,
           check: Callable[[models.Model], None] | None = None) -> None:
    """The one delete sequence: ``check`` (refuse objects in use), snapshot, delete (a protected
    relation is 409 ``in_use``), then the audit entry and the ``<prefix>.deleted`` event (or
    ``event_type``), whose payload defaults to the snapshot."""
    if check is not None:
        check(instance)
    before = snapshot(instance)
    pk = instance.pk
    protected_delete(instance)
    instance.pk = pk  # keep the id for the audit entry
    event_type = event_type or _event(prefix, "deleted")
    record_change(actor=actor, action=AuditEntry.Action.DELETE, instance=instance, before=before, tenant=tenant,
                  reseller_id=reseller_id, event_type=event_type,
                  event_data=payload if payload is not None else before)


# --- objects that need nothing but field validation --------------------------------------------
@transaction.atomic
def model_create(*, actor, model: type[models.Model], data: dict[str, Any], allowed: Iterable[str],
                 tenant=None, prefix: str | None = None, payload: Callable[[Any], dict] | None = None) -> models.Model:
    check_fields(data, allowed)
    instance = model(**data)
    clean(instance, unique=True)
    save(instance)
    record_created(actor=actor, instance=instance, tenant=tenant, prefix=prefix,
                   payload=payload(instance) if payload else None)
    return instance


@transaction.atomic
def model_update(*, actor, instance: models.Model, data: dict[str, Any], allowed: Iterable[str],
                 tenant=None, prefix: str | None = None, payload: Callable[[Any], dict] | None = None) -> models.Model:
    check_fields(data, allowed)
    instance = type(instance).objects.select_for_update().get(pk=instance.pk)
    before = snapshot(instance)
    for key, value in data.items():
        setattr(instance, key, value)
    clean(instance, unique=True)
    save(instance)
    record_updated(actor=actor, instance=instance, before=before, tenant=tenant, prefix=prefix,
                   payload=payload(instance) if payload else None)
    return instance
