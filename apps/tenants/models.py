"""Resellers, tenants and their domains (public schema).

A tenant's data lives in its own PostgreSQL schema (django-tenants). The slug is the tenant's
name in API paths (``/api/extensions/<slug>/``); the schema name is derived from it once and
never changes, so a slug can be renamed without moving data.
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
    "3-40 lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen.",
    code="invalid_slug",
)
# Slugs that would collide with path segments or schema names we use ourselves.
RESERVED_SLUGS = {"public", "admin", "api", "static", "template", "system", "www", "pool", "docs", "schema"}


class Reseller(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    contact_email = models.EmailField(blank=True)
    max_tenants = models.PositiveIntegerField(null=True, blank=True, help_text="Empty for no limit.")
    api_rate_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="API requests per minute for each credential and each tenant of this reseller; "
                  "empty for the platform default.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_call_log_directions() -> list[str]:
    return ["inbound", "outbound"]


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.CharField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=200)
    reseller = models.ForeignKey(Reseller, on_delete=models.PROTECT, related_name="tenants")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    suspended_reason = models.CharField(max_length=200, blank=True)
    # Limits
    max_extensions = models.PositiveIntegerField(default=100)
    max_dids = models.PositiveIntegerField(default=50)
    max_queues = models.PositiveIntegerField(default=20)
    max_trunks = models.PositiveIntegerField(default=10)
    # Dial plan and locale
    extension_length = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(2), MaxValueValidator(6)],
        help_text="Digits in an extension number.")
    default_region = models.CharField(max_length=2, default="US",
                                      help_text="ISO 3166 region used to read local phone numbers.")
    timezone = models.CharField(max_length=64, default="UTC")
    primary_server = models.ForeignKey("pbx.Server", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="tenants")
    notes = models.TextField(blank=True)
    # CRM call log: when a call with a matched contact ends, a call activity on the contact.
    crm_call_logging = models.BooleanField(default=True, help_text="Log calls with a known contact in the CRM.")
    crm_call_log_directions = ArrayField(
        models.CharField(max_length=16, choices=[("inbound", "Inbound"), ("outbound", "Outbound"),
                                                 ("internal", "Internal"), ("inter_site", "Inter-site")]),
        default=default_call_log_directions, blank=True, help_text="Which calls to log.")
    # Billing (apps.billing): set by the reseller, read-only for the tenant's own credentials.
    account_code = models.CharField(
        max_length=40, blank=True, validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$", "Letters, digits, "
                                                              ". _ : and -, starting with a letter or digit.")],
        help_text="Written on every CDR of the tenant (the billing system's customer id).")
    cdr_retention_days = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(3650)], help_text="Days CDRs are kept; 0 = forever.")
    call_retention_days = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(3650)],
        help_text="Days call records (with their legs) are kept; 0 = forever.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Schemas are created and dropped by apps.tenants.schemas, inside the service's transaction.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["reseller", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Domain(DomainMixin):
    """Kept because django-tenants requires it; tenants are resolved by path, not host name."""
