"""API key writes: create, rotate, revoke. The full key is returned once and never stored."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts import keys
from apps.accounts.models import ApiKey, Scope
from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import record_change


@dataclass
class IssuedKey:
    api_key: ApiKey
    key: str  # the secret, shown once


def _check_grant(actor, *, scope: str, reseller, tenant, organization, read_only: bool) -> None:
    """A principal can only issue keys inside its own scope, never a wider one."""
    if actor.read_only:
        raise DomainError("A read-only credential cannot issue keys.", code="read_only_credential")
    if actor.is_system:
        return
    ok = False
    if actor.scope == Scope.RESELLER:
        ok = (scope == Scope.RESELLER and reseller is not None and reseller.pk == actor.reseller_id) or \
             (scope == Scope.TENANT and tenant is not None and tenant.reseller_id == actor.reseller_id) or \
             (scope == Scope.ORGANIZATION and organization is not None and organization.reseller_id == actor.reseller_id)
    elif actor.scope == Scope.TENANT:
        ok = scope == Scope.TENANT and tenant is not None and tenant.pk == actor.tenant_id
    elif actor.scope == Scope.ORGANIZATION:
        ok = scope == Scope.ORGANIZATION and organization is not None and organization.pk == actor.organization_id
    if not ok:
        raise DomainError("The credential cannot issue a key of that scope.", code="scope_violation", field="scope")



@transaction.atomic
def api_key_create(*, actor, name: str, scope: str, reseller=None, tenant=None, organization=None,
                   read_only: bool = False, expires_at: datetime | None = None,
                   rate_limit: int | None = None) -> IssuedKey:
    if scope == Scope.SYSTEM:
        reseller = tenant = organization = None
    elif scope == Scope.RESELLER:
        tenant = organization = None
        if reseller is None:
            raise Invalid("A reseller key needs a reseller.", field="reseller")
    elif scope == Scope.TENANT:
        reseller = organization = None
        if tenant is None:
            raise Invalid("A tenant key needs a tenant.", field="tenant")
    elif scope == Scope.ORGANIZATION:
        reseller = tenant = None
        if organization is None:
            raise Invalid("An organization key needs an organization.", field="organization")
    else:
        raise Invalid(f"Unknown scope {scope!r}.", field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise Invalid("The expiry must be in the future.", field="expires_at")
    _check_grant(actor, scope=scope, reseller=reseller, tenant=tenant, organization=organization, read_only=read_only)
    if rate_limit is not None and actor.scope not in (Scope.SYSTEM, Scope.RESELLER):
        # Rate limits are the platform's and the reseller's to sell, like a tenant's quotas.
        raise DomainError("Only a system or reseller credential can set a key's rate limit.",
                          code="permission_denied", field="rate_limit")
    key, prefix, key_hash = keys.generate()
    api_key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=key_hash, scope=scope, reseller=reseller, tenant=tenant,
        organization=organization, read_only=read_only, expires_at=expires_at, rate_limit=rate_limit,
        created_by=actor.user if getattr(actor, "user", None) else None,
    )
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=api_key, tenant=tenant,
                  reseller_id=reseller.pk if reseller else None)
    return IssuedKey(api_key=api_key, key=key)


@transaction.atomic
def api_key_rotate(*, actor, api_key: ApiKey, grace: timedelta | None = None) -> IssuedKey:
    """Issue a replacement with the same scope; the old key keeps working for ``grace``."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.state() != "active":
        raise Conflict(f"The key is {api_key.state()} and cannot be rotated.", code="invalid_state")
    if hasattr(api_key, "rotated_to"):
        raise Conflict("The key was already rotated; rotate its replacement.", code="invalid_state")
    grace = settings.API_KEY_ROTATION_GRACE if grace is None else grace
    if grace < timedelta(0) or grace > timedelta(days=30):
        raise Invalid("The grace period must be between 0 and 30 days.", field="grace_seconds")
    before = snapshot(api_key)
    key, prefix, key_hash = keys.generate()
    replacement = ApiKey.objects.create(
        name=api_key.name, prefix=prefix, key_hash=key_hash, scope=api_key.scope, reseller=api_key.reseller,
        tenant=api_key.tenant, organization=api_key.organization, read_only=api_key.read_only,
        rate_limit=api_key.rate_limit, expires_at=api_key.expires_at, rotated_from=api_key,
        created_by=actor.user if getattr(actor, "user", None) else None,
    )
    cutoff = timezone.now() + grace
    if api_key.expires_at is None or api_key.expires_at > cutoff:
        api_key.expires_at = cutoff
        api_key.save(update_fields=["expires_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="rotate", instance=api_key, before=before,
                  tenant=api_key.tenant, reseller_id=api_key.reseller_id)
    return IssuedKey(api_key=replacement, key=key)


@transaction.atomic
def api_key_revoke(*, actor, api_key: ApiKey) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at:
        return api_key
    before = snapshot(api_key)
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    record_change(actor=actor, action=AuditEntry.Action.ACTION, verb="revoke", instance=api_key, before=before,
                  tenant=api_key.tenant, reseller_id=api_key.reseller_id)
    return api_key


def api_key_touch(api_key: ApiKey) -> None:
    """Record use, at most once per API_KEY_LAST_USED_RESOLUTION (reads stay reads)."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < settings.API_KEY_LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
