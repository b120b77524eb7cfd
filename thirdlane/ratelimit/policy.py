"""Which buckets a request counts against, and how large they are.

Every authenticated API request counts against its credential (the API key, or the user for
Basic and the session) and, on ``/api/<resource>/<tenant>/`` paths, against that tenant, so
several keys of one tenant share its budget. The tenant bucket is counted only when the
credential may see the tenant: nobody can drain another tenant's budget by asking for it.

A limit is, most specific first: the key's own ``rate_limit``; its reseller's
``api_rate_limit`` (for the reseller's credentials and tenants); the platform default
(``RATE_LIMIT_PER_CREDENTIAL`` / ``RATE_LIMIT_PER_TENANT`` per ``RATE_LIMIT_WINDOW`` seconds).
The overrides are requests per minute.

This runs on every request, so it reads what authentication already loaded (a key arrives
with its tenant and reseller) and otherwise remembers the few facts it needs for
``CACHE_SECONDS``: a changed reseller limit applies within that time.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from django.conf import settings

from apps.accounts.models import Scope
from apps.accounts.principal import Principal
from thirdlane.ratelimit.limiter import Bucket

CACHE_SECONDS = 30.0
OVERRIDE_PERIOD = 60  # the overrides are per minute


class _Recent:
    """A small per-process memo with expiry (values may be None, which is remembered too)."""

    def __init__(self, ttl: float, size: int = 10_000):
        self.ttl, self.size = ttl, size
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key, load: Callable[[], Any]):
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._items) >= self.size:  # unknown slugs must not grow it without bound
                self._items.clear()
            self._items[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_resellers = _Recent(CACHE_SECONDS)  # reseller id -> api_rate_limit
_organizations = _Recent(CACHE_SECONDS)  # organization id -> reseller id
_tenants = _Recent(CACHE_SECONDS)  # slug -> (tenant id, reseller id, reseller's api_rate_limit)


def clear_caches() -> None:
    for cache in (_resellers, _organizations, _tenants):
        cache.clear()


def _reseller_limit(reseller_id: int | None) -> int | None:
    if reseller_id is None:
        return None
    from apps.tenants.models import Reseller

    return _resellers.get(reseller_id, lambda: Reseller.objects.filter(pk=reseller_id)
                          .values_list("api_rate_limit", flat=True).first())


def _reseller_limit_of(owner) -> int | None:
    """The reseller override for a key, user or tenant, from the loaded reseller when there is one."""
    if owner is None or owner.reseller_id is None:
        return None
    if type(owner).reseller.is_cached(owner):
        return owner.reseller.api_rate_limit
    return _reseller_limit(owner.reseller_id)


def _organization_reseller(organization_id: int) -> int | None:
    from apps.organizations.models import Organization

    return _organizations.get(organization_id, lambda: Organization.objects.filter(pk=organization_id)
                              .values_list("reseller_id", flat=True).first())


def _sized(name: str, key: str, override: int | None, default: int) -> Bucket:
    if override:
        return Bucket(name, key, override, OVERRIDE_PERIOD)
    return Bucket(name, key, default, settings.RATE_LIMIT_WINDOW)


def credential_bucket(principal: Principal) -> Bucket | None:
    if principal.kind == "api_key" and principal.api_key is not None:
        key = principal.api_key
        if key.rate_limit:
            override = key.rate_limit
        elif key.tenant_id:
            override = _reseller_limit_of(key.tenant)
        elif key.organization_id:
            override = _reseller_limit(_organization_reseller(key.organization_id))
        else:
            override = _reseller_limit_of(key)
        return _sized("credential", f"rl:key:{key.pk}", override, settings.RATE_LIMIT_PER_CREDENTIAL)
    if principal.kind == "user" and principal.user is not None:
        user = principal.user
        override = _reseller_limit_of(user.tenant) if user.tenant_id else _reseller_limit(user.reseller_id)
        return _sized("credential", f"rl:user:{user.pk}", override, settings.RATE_LIMIT_PER_CREDENTIAL)
    return None  # internal principals are not limited


def _tenant_facts(principal: Principal, slug: str) -> tuple[int, int, int | None] | None:
    own = getattr(principal.api_key or principal.user, "tenant", None)
    if own is not None and own.slug == slug:
        return own.pk, own.reseller_id, _reseller_limit_of(own)
    if principal.scope == Scope.TENANT:
        return None  # not its tenant: the view answers 404, and no other tenant's budget is touched
    from apps.tenants.models import Tenant

    return _tenants.get(slug, lambda: Tenant.objects.filter(slug=slug)
                        .values_list("pk", "reseller_id", "reseller__api_rate_limit").first())


def tenant_bucket(principal: Principal, slug: str | None) -> Bucket | None:
    if not slug:
        return None
    facts = _tenant_facts(principal, slug)
    if facts is None:
        return None
    from apps.tenants.models import Tenant

    tenant_id, reseller_id, override = facts
    if not principal.can_see_tenant(Tenant(pk=tenant_id, reseller_id=reseller_id)):
        return None
    return _sized("tenant", f"rl:tenant:{tenant_id}", override, settings.RATE_LIMIT_PER_TENANT)


def buckets_for(principal: Principal, tenant_slug: str | None) -> list[Bucket]:
    credential = credential_bucket(principal)
    if credential is None:
        return []
    tenant = tenant_bucket(principal, tenant_slug)
    return [credential, tenant] if tenant else [credential]
