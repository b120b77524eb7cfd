"""Multi-site enterprises (public schema).

An ``Organization`` belongs to one reseller and groups some of that reseller's tenants as its
sites. Membership is a row per tenant (``OrganizationMember``, one-to-one with the tenant, so a
tenant is in at most one organization); each member has a site code that other members dial in
front of an extension number, a location, an address and a time zone. Removing a member deletes
only this row: the tenant and its schema are untouched.
"""
from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

SITE_CODE_VALIDATOR = RegexValidator(
    r"^[0-9]{1,6}$", "1-6 digits: members dial it in front of an extension number.", code="invalid_site_code")


@functools.lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the tz database once per process


def validate_timezone(value: str) -> None:
    if value and value not in _timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone.", code="invalid_timezone")


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True)
    reseller = models.ForeignKey("tenants.Reseller", on_delete=models.PROTECT, related_name="organizations")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationMember(models.Model):
    """A tenant as one site of an organization.

    ``related_name="organization_membership"`` is what ``Principal.tenant_filter`` follows for
    organization-scoped credentials: keep it.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="organization_membership")
    site_code = models.CharField(max_length=6, validators=[SITE_CODE_VALIDATOR])
    location = models.ForeignKey("pbx.Location", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="organization_sites")
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone],
                                help_text="IANA time zone of the site; empty: the tenant's.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "site_code"]
        verbose_name = "member site"
        constraints = [
            models.UniqueConstraint(fields=["organization", "site_code"], name="organization_site_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.site_code} {self.tenant.slug}" if self.tenant_id else self.site_code

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.tenant.timezone
