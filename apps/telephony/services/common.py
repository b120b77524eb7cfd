"""What telephony services share besides the write kernel (``thirdlane.services``, re-exported
here): the tenant schema, advisory locks, limits, references by id, deletes that refuse objects
still in use."""
from __future__ import annotations

import functools
from typing import Callable

from django.db import connection, models, transaction
from django_tenants.utils import tenant_context

from apps.telephony.selectors import usages
from thirdlane import services as kernel
from thirdlane.api.errors import Conflict, DomainError, InUse, Invalid
from thirdlane.services import check_fields, record_created, record_updated, save  # noqa: F401 (re-exported)

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


def clean(instance: models.Model, *, prefix: str = "", exclude: list[str] | None = None) -> None:
    """The kernel's ``clean``; telephony text ends up in PBX config files, so it is one line."""
    kernel.clean(instance, prefix=prefix, exclude=exclude, one_line=True)


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


# --- deletes -----------------------------------------------------------------------------------
def ensure_unused(instance: models.Model) -> None:
    """Refuse to delete what a destination, a member or a route still points at (409 ``in_use``)."""
    users = usages(instance)
    if users:
        noun = instance._meta.verbose_name
        raise InUse(f"{noun[0].upper() + noun[1:]} {instance} is still used by: {', '.join(users)}.",
                    extra={"used_by": users})


def delete(*, actor, tenant, instance: models.Model, prefix: str, payload: dict) -> None:
    kernel.delete(actor=actor, tenant=tenant, instance=instance, prefix=prefix, payload=payload, check=ensure_unused)
