"""Tenant and reseller writes. Each validates, persists, audits and emits, in one transaction."""
from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import Scope
from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.tenants import schemas
from apps.tenants.models import RESERVED_SLUGS, Reseller, Tenant
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import delete, model_create, model_update, record_change

logger = logging.getLogger(__name__)

TENANT_FIELDS = {
    "name", "reseller", "max_extensions", "max_dids", "max_queues", "max_trunks", "extension_length",
    "default_region", "timezone", "primary_server", "notes", "crm_call_logging", "crm_call_log_directions",
    "account_code", "cdr_retention_days", "call_retention_days",
}
# What a tenant's own credentials may change about their tenant. Everything else (limits, server
# placement, the number plan, the slug, the reseller) is what the reseller sells and sets.
TENANT_SELF_FIELDS = {"name", "default_region", "timezone", "notes", "crm_call_logging", "crm_call_log_directions"}


def tenant_payload(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.pk,
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "reseller": {"id": tenant.reseller_id, "slug": tenant.reseller.slug},
        "primary_server": tenant.primary_server.name if tenant.primary_server_id else None,
        "max_extensions": tenant.max_extensions,
    }


def _check_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise Invalid(f"The slug {slug!r} is reserved.", field="slug")
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"The slug {slug!r} is already used.", code="slug_taken", field="slug")


@transaction.atomic
def tenant_create(*, actor, slug: str, name: str, reseller: Reseller, **fields: Any) -> Tenant:
    unknown = set(fields) - TENANT_FIELDS
    if unknown:
        raise Invalid(f"Unknown tenant fields: {', '.join(sorted(unknown))}.")
    _check_slug(slug)
    # Lock the reseller row so concurrent creations cannot both pass the limit check.
    reseller = Reseller.objects.select_for_update().get(pk=reseller.pk)
    if reseller.max_tenants is not None and reseller.tenants.count() >= reseller.max_tenants:
        raise DomainError(f"Reseller {reseller.name} may have at most {reseller.max_tenants} tenants.",
                          code="reseller_limit", field="reseller")
    tenant = Tenant(slug=slug, name=name, reseller=reseller, schema_name=schemas.schema_name_for(slug), **fields)
    tenant.full_clean(exclude=["schema_name"], validate_unique=False)
    if schemas.schema_exists(tenant.schema_name):
        # A schema without a tenant row: left over by hand; never reuse someone's data.
        raise Conflict(f"A schema named {tenant.schema_name} already exists.", code="slug_taken", field="slug")
    try:
        with transaction.atomic():
            tenant.save()
    except IntegrityError as exc:
        raise Conflict(f"The slug {slug!r} is already used.", code="slug_taken", field="slug") from exc
    how = schemas.provision_schema(tenant.schema_name)
    logger.info("tenant created", extra={"tenant": slug, "schema_source": how})
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=tenant, tenant=tenant,
                  event_type="tenant.created", event_data=tenant_payload(tenant))
    _refill_pool_after_commit()
    return tenant


def _refill_pool_after_commit() -> None:
    def refill():
        try:
            from apps.tenants.tasks import fill_schema_pool

            fill_schema_pool.delay()
        except Exception:  # the beat schedule refills too
            logger.warning("could not queue the schema pool refill", exc_info=True)

    transaction.on_commit(refill)


@transaction.atomic
def tenant_update(*, actor, tenant: Tenant, **fields: Any) -> Tenant:
    unknown = set(fields) - TENANT_FIELDS - {"slug"}
    if unknown:
        raise Invalid(f"Unknown tenant fields: {', '.join(sorted(unknown))}.")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    _check_tenant_may_change(actor, tenant, fields)
    before = snapshot(tenant)
    new_slug = fields.pop("slug", tenant.slug)
    if new_slug != tenant.slug:
        _check_slug(new_slug)
        tenant.slug = new_slug
    for key, value in fields.items():
        setattr(tenant, key, value)
    tenant.full_clean(exclude=["schema_name"], validate_unique=False)
    tenant.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=tenant, before=before, tenant=tenant,
                  event_type="tenant.updated", event_data=tenant_payload(tenant))
    if before.get("primary_server_id") != tenant.primary_server_id:
        # Extension payloads name the server and its SIP address: publish them again.
        from apps.telephony.services.extensions import extension_republish

        extension_republish(tenant=tenant, cause="primary_server_changed")
    return tenant


def _check_tenant_may_change(actor, tenant: Tenant, fields: dict[str, Any]) -> None:
    """Tenant and organization credentials may read their limits, never raise them: a field the
    reseller owns may be sent back unchanged (a PUT of what was read), not changed."""
    if actor.scope not in (Scope.TENANT, Scope.ORGANIZATION):
        return
    refused = sorted(name for name, value in fields.items()
                     if name not in TENANT_SELF_FIELDS and _field_value(tenant, name) != _field_value(value, None))
    if refused:
        raise DomainError(
            f"Only the reseller can change: {', '.join(refused)}.", code="permission_denied",
            errors={name: [{"code": "read_only_field", "message": "Set by the reseller; tenant credentials "
                                                                  "can read it, not change it."}]
                    for name in refused})


def _field_value(obj, name: str | None):
    """A comparable value: related objects by primary key."""
    value = getattr(obj, name) if name else obj
    return value.pk if hasattr(value, "_meta") else value


@transaction.atomic
def tenant_suspend(*, actor, tenant: Tenant, reason: str = "") -> Tenant:
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status == Tenant.Status.SUSPENDED:
        raise Conflict("The tenant is already suspended.", code="invalid_state")
    before = snapshot(tenant)
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_reason = reason[:200]
    tenant.save(update_fields=["status", "suspended_reason", "updated_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="suspend", instance=tenant, before=before,
                  tenant=tenant, event_type="tenant.suspended", event_data=tenant_payload(tenant))
    return tenant


@transaction.atomic
def tenant_resume(*, actor, tenant: Tenant) -> Tenant:
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status == Tenant.Status.ACTIVE:
        raise Conflict("The tenant is not suspended.", code="invalid_state")
    before = snapshot(tenant)
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_reason = ""
    tenant.save(update_fields=["status", "suspended_reason", "updated_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="resume", instance=tenant, before=before,
                  tenant=tenant, event_type="tenant.resumed", event_data=tenant_payload(tenant))
    return tenant


@transaction.atomic
def tenant_delete(*, actor, tenant: Tenant) -> None:
    """Delete the tenant row and drop its schema: both or neither (DDL is transactional)."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    payload = tenant_payload(tenant)
    before = snapshot(tenant)
    schema = tenant.schema_name
    pk = tenant.pk
    record_change(actor=actor, action=AuditEntry.Action.DELETE, instance=tenant, before=before, tenant=tenant,
                  event_type="tenant.deleted", event_data=payload)
    from django.db import connection

    connection.set_schema_to_public()
    Tenant.objects.filter(pk=pk).delete()
    schemas.drop_schema(schema)


# --- resellers ---------------------------------------------------------------------------------

RESELLER_FIELDS = {"name", "slug", "contact_email", "max_tenants", "is_active", "api_rate_limit"}


def reseller_create(*, actor, **fields: Any) -> Reseller:
    return model_create(actor=actor, model=Reseller, data=fields, allowed=RESELLER_FIELDS)


def reseller_update(*, actor, instance: Reseller, **fields: Any) -> Reseller:
    return model_update(actor=actor, instance=instance, data=fields, allowed=RESELLER_FIELDS)


@transaction.atomic
def reseller_delete(*, actor, instance: Reseller) -> None:
    delete(actor=actor, instance=instance)
