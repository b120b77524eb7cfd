"""Who is calling: one shape for a user (Basic or session) and an API key.

Scope checks everywhere go through ``Principal``: the base viewsets, the admin and the
services. A principal sees the whole system, one reseller's tenants, one organization's member
tenants, or one tenant.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from apps.accounts.models import Scope

if TYPE_CHECKING:
    from apps.accounts.models import ApiKey, User
    from apps.tenants.models import Tenant


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "api_key" | "system"
    scope: str
    id: int | None = None
    label: str = "system"
    reseller_id: int | None = None
    tenant_id: int | None = None
    organization_id: int | None = None
    read_only: bool = False
    # For tenant-scoped credentials: the tenant is suspended, so the credential is refused.
    tenant_suspended: bool = False
    user: "User | None" = field(default=None, compare=False, repr=False)
    api_key: "ApiKey | None" = field(default=None, compare=False, repr=False)

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def for_user(cls, user: "User") -> "Principal":
        return cls(
            kind="user", scope=user.scope, id=user.pk, label=f"user:{user.username}",
            reseller_id=user.reseller_id, tenant_id=user.tenant_id,
            read_only=user.role == user.Role.READ_ONLY and not user.is_superuser,
            tenant_suspended=bool(user.tenant_id and user.tenant.status == "suspended"), user=user,
        )

    @classmethod
    def for_api_key(cls, key: "ApiKey") -> "Principal":
        return cls(
            kind="api_key", scope=key.scope, id=key.pk, label=f"key:tl_{key.prefix}",
            reseller_id=key.reseller_id, tenant_id=key.tenant_id, organization_id=key.organization_id,
            read_only=key.read_only, tenant_suspended=bool(key.tenant_id and key.tenant.status == "suspended"),
            api_key=key,
        )

    @classmethod
    def system(cls, label: str = "system") -> "Principal":
        return cls(kind="system", scope=Scope.SYSTEM, label=label)

    # --- scope ----------------------------------------------------------------------------
    @property
    def is_system(self) -> bool:
        return self.scope == Scope.SYSTEM

    def scope_q(self, *, tenant: str | None = None, reseller: str | None = None,
                organization: str | None = None) -> Q:
        """The one scope rule: which rows of a model this principal may see.

        Name the paths to what owns a row: ``tenant``, ``reseller``, ``organization`` (a foreign
        key such as ``"subscription__tenant"``, or an id column such as audit's ``tenant``;
        ``""`` for the owner's own table). A row is visible when one of its owners is in scope:
        the system sees everything; a reseller its own rows and those of its tenants and
        organizations; an organization its member tenants' rows and its own; a tenant its own.
        Owners are matched by id through subqueries, so an id column works as well as a key.
        """
        from apps.tenants.models import Tenant

        def col(path: str) -> str:
            return "pk" if path == "" else f"{path}_id"

        if self.scope == Scope.SYSTEM:
            return Q()
        parts: list[Q] = []
        if self.scope == Scope.RESELLER and self.reseller_id is not None:
            if reseller is not None:
                parts.append(Q(**{col(reseller): self.reseller_id}))
            if tenant is not None:
                parts.append(Q(**{f"{col(tenant)}__in": Tenant.objects.filter(reseller_id=self.reseller_id)
                                  .values("pk")}))
            if organization is not None:
                from apps.organizations.models import Organization

                parts.append(Q(**{f"{col(organization)}__in": Organization.objects.filter(
                    reseller_id=self.reseller_id).values("pk")}))
        elif self.scope == Scope.ORGANIZATION and self.organization_id is not None:
            if tenant is not None:
                parts.append(Q(**{f"{col(tenant)}__in": self.visible_tenants().values("pk")}))
            if organization is not None:
                parts.append(Q(**{col(organization): self.organization_id}))
        elif self.scope == Scope.TENANT and self.tenant_id is not None:
            if tenant is not None:
                parts.append(Q(**{col(tenant): self.tenant_id}))
        if not parts:
            return Q(pk__in=[])
        q = parts[0]
        for part in parts[1:]:
            q |= part
        return q

    def tenant_filter(self, prefix: str = "") -> Q:
        """A Q object limiting a tenant queryset (or a relation, with ``prefix``) to this scope."""
        p = f"{prefix}__" if prefix else ""
        if self.scope == Scope.SYSTEM:
            return Q()
        if self.scope == Scope.RESELLER:
            return Q(**{f"{p}reseller_id": self.reseller_id})
        if self.scope == Scope.ORGANIZATION:
            return Q(**{f"{p}organization_membership__organization_id": self.organization_id})
        return Q(**{f"{p}pk" if p == "" else f"{prefix}_id": self.tenant_id})

    def visible_tenants(self, queryset: "QuerySet[Tenant] | None" = None) -> "QuerySet[Tenant]":
        from apps.tenants.models import Tenant

        qs = queryset if queryset is not None else Tenant.objects.all()
        if self.scope == Scope.TENANT:
            return qs.filter(pk=self.tenant_id)
        return qs.filter(self.tenant_filter())

    def can_see_tenant(self, tenant: "Tenant") -> bool:
        if self.scope == Scope.SYSTEM:
            return True
        if self.scope == Scope.RESELLER:
            return tenant.reseller_id == self.reseller_id
        if self.scope == Scope.TENANT:
            return tenant.pk == self.tenant_id
        if self.scope == Scope.ORGANIZATION:
            return self.visible_tenants().filter(pk=tenant.pk).exists()
        return False

    def can_see_reseller(self, reseller_id: int | None) -> bool:
        return self.scope == Scope.SYSTEM or (self.scope == Scope.RESELLER and self.reseller_id == reseller_id)
