"""Users with a role, and API keys (public schema)."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    SYSTEM = "system", "System"
    RESELLER = "reseller", "Reseller"
    ORGANIZATION = "organization", "Organization"
    TENANT = "tenant", "Tenant"


class User(AbstractUser):
    class Role(models.TextChoices):
        SYSTEM_ADMIN = "system_admin", "System admin"
        RESELLER_ADMIN = "reseller_admin", "Reseller admin"
        TENANT_ADMIN = "tenant_admin", "Tenant admin"
        READ_ONLY = "read_only", "Read-only"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.READ_ONLY)
    # A read-only user is scoped by whichever of these is set (none: the whole system).
    reseller = models.ForeignKey("tenants.Reseller", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="users")
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="users")

    class Meta:
        ordering = ["username"]
        constraints = [
            # One scope per user: a user with both would be a tenant in the API and a reseller in
            # the admin. A reseller's staff who also work on one tenant get two accounts.
            models.CheckConstraint(name="user_one_scope",
                                   condition=models.Q(reseller__isnull=True) | models.Q(tenant__isnull=True)),
        ]

    @property
    def scope(self) -> str:
        if self.role == self.Role.SYSTEM_ADMIN or self.is_superuser:
            return Scope.SYSTEM
        if self.tenant_id:
            return Scope.TENANT
        if self.reseller_id:
            return Scope.RESELLER
        return Scope.SYSTEM if self.role == self.Role.READ_ONLY else Scope.TENANT


class ApiKey(models.Model):
    """An API key. The secret is shown once; only its SHA-256 is kept.

    Keys are 32 random base62 characters, so a fast hash is the right one: there is nothing to
    brute-force that a slow hash would protect (unlike a password).
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True, help_text="Visible part of the key (tl_<prefix>_…).")
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    reseller = models.ForeignKey("tenants.Reseller", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="api_keys")
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="api_keys")
    organization = models.ForeignKey("organizations.Organization", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="api_keys")
    read_only = models.BooleanField(default=False)
    rate_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Requests per minute for this key; empty for the reseller's or the platform default.")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="rotated_to")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        constraints = [
            models.CheckConstraint(
                name="api_key_scope_owner",
                condition=(
                    models.Q(scope="system", reseller__isnull=True, tenant__isnull=True, organization__isnull=True)
                    | models.Q(scope="reseller", reseller__isnull=False, tenant__isnull=True, organization__isnull=True)
                    | models.Q(scope="tenant", tenant__isnull=False, organization__isnull=True)
                    | models.Q(scope="organization", organization__isnull=False, tenant__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (tl_{self.prefix}_…)"

    @property
    def display(self) -> str:
        return f"tl_{self.prefix}_…"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "active"
