"""What every telephony service shares: the tenant schema, advisory locks, model cleaning with
field-named errors, audited/evented saves and deletes that refuse objects still in use."""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.telephony.selectors import usages
from thirdlane.api.errors import Conflict, DomainError, InUse, Invalid
from thirdlane.services import protected_delete, record_change

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# First key of the two-key advisory locks (pg_advisory_xact_lock(int4, int4)); the second key is
# hashtext() of what is locked. Distinct namespaces keep our locks apart from anyone else's.
LOCK_NAMESPACES = {
    "number_plan": 0x7E1E01,  # per tenant: extensions, queues, IVRs (numbers and limits)
    "did": 0x7E1E02,  # per E.164 number, platform-wide
    "did_count": 0x7E1E03,  # per tenant: the DID limit
    "trunk_count": 0x7E1E04,  # per tenant: the trunk limit
}


def advisory_lock(kind: str, key: str) -> None:
    """Held until the transaction ends (commit or rollback)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACES[kind], key])


def tenant_service(fn: Callable) -> Callable:
    """Run a service in one transaction with ``tenant``'s schema active (restored afterwards)."""

    @functools.wraps(fn)
    def wrapper(*args, tenant, **kwargs):
        if connection.schema_name != tenant.schema_name:
            with tenant_context(tenant), transaction.atomic():
                return fn(*args, tenant=tenant, **kwargs)
        with transaction.atomic():
            return fn(*args, tenant=tenant, **kwargs)

    return wrapper


def check_fields(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Invalid(f"Unknown fields: {', '.join(sorted(unknown))}.",
                      errors={name: [{"code": "unknown_field", "message": "Not a field of this object."}]
                              for name in sorted(unknown)})


def clean(instance: models.Model, *, prefix: str = "", exclude: list[str] | None = None) -> None:
    """Field validation (choices, lengths, validators) with errors named ``<prefix>.<field>``."""
    errors = {}
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, items in exc.message_dict.items():
            key = f"{prefix}.{name}" if prefix and name != "__all__" else (prefix or name)
            errors[key] = [{"code": "invalid", "message": message} for message in items]
    # One-line text ends up in PBX config files and dialplan arguments: no line breaks or controls.
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if type(field) is models.CharField and isinstance(value, str) and _CONTROL.search(value):
            key = f"{prefix}.{field.name}" if prefix else field.name
            errors.setdefault(key, []).append({"code": "invalid", "message": "Control characters (line breaks, "
                                                                             "tabs) are not allowed."})
    if errors:
        raise Invalid("Invalid fields: " + ", ".join(sorted(errors)) + ".", errors=errors)


def save(instance: models.Model, *, field: str = "number") -> None:
    """Save; a unique violation that slipped past the checks is a 409, never a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(f"{instance._meta.verbose_name.capitalize()} conflicts with an existing one.",
                       code="duplicate", field=field) from exc


def unique_name(model: type[models.Model], name: str, instance: models.Model | None = None,
                field: str = "name") -> None:
    qs = model.objects.filter(**{field: name})
    if instance is not None and instance.pk:
        qs = qs.exclude(pk=instance.pk)
    if qs.exists():
        raise Conflict(f"A {model._meta.verbose_name} named {name!r} already exists.", code="duplicate", field=field)


def check_limit(tenant, *, current: int, adding: int, limit: int | None, noun: str, field: str) -> None:
    if limit is not None and current + adding > limit:
        raise DomainError(f"Tenant {tenant.slug} may have at most {limit} {noun} ({current} exist).",
                          code="limit_exceeded", field=field)


def resolve_ids(model: type[models.Model], values: list, *, field: str) -> dict[int, models.Model]:
    """Load objects by id (or accept instances) in the current schema; unknown ids are field errors."""
    ids = []
    for index, value in enumerate(values):
        pk = value.pk if isinstance(value, models.Model) else value
        try:
            ids.append(int(pk))
        except (TypeError, ValueError):
            raise Invalid(f"{field}[{index}] must be an id.", field=f"{field}[{index}]") from None
    found = model.objects.in_bulk(ids)
    for index, pk in enumerate(ids):
        if pk not in found:
            raise DomainError(f"No {model._meta.verbose_name} with id {pk} in this tenant.",
                              code="reference_not_found", field=f"{field}[{index}]")
    return found


def resolve_one(model: type[models.Model], value, *, field: str, required: bool = True):
    if value is None or value == "":
        if required:
            raise Invalid(f"{field} is required.", field=field)
        return None
    if isinstance(value, models.Model):
        value = value.pk
    try:
        obj = model.objects.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        raise Invalid(f"{field} must be an id.", field=field) from None
    if obj is None:
        raise DomainError(f"No {model._meta.verbose_name} with id {value} in this tenant.",
                          code="reference_not_found", field=field)
    return obj


# --- audited, evented writes -------------------------------------------------------------------
def record_created(*, actor, tenant, instance, prefix: str, payload: dict) -> None:
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=instance, tenant=tenant,
                  event_type=f"{prefix}.created", event_data=payload)


def record_updated(*, actor, tenant, instance, before: dict | None, prefix: str, payload: dict) -> None:
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=instance, before=before, tenant=tenant,
                  event_type=f"{prefix}.updated", event_data=payload)


def ensure_unused(instance: models.Model) -> None:
    users = usages(instance)
    if users:
        noun = instance._meta.verbose_name
        raise InUse(f"{noun[0].upper() + noun[1:]} {instance} is still used by: {', '.join(users)}.",
                    extra={"used_by": users})


def delete(*, actor, tenant, instance: models.Model, prefix: str, payload: dict) -> None:
    ensure_unused(instance)
    before = snapshot(instance)
    pk = instance.pk
    protected_delete(instance)  # a relation we did not name still ends as 409, never 500
    instance.pk = pk  # keep the id for the audit entry
    record_change(actor=actor, action=AuditEntry.Action.DELETE, instance=instance, before=before, tenant=tenant,
                  event_type=f"{prefix}.deleted", event_data=payload)
