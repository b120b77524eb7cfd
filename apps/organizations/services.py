"""Organization and membership writes. Each validates, persists, audits and emits in one transaction.

Cross-object rules live in ``validate_member`` so the API and the admin refuse the same things
with the same codes: a tenant joins at most one organization, only an organization of its own
reseller, and its site code is unique within the organization and never makes the numbers
members dial to reach another site ambiguous.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.organizations.models import Organization, OrganizationMember
from apps.tenants.models import Reseller, Tenant
from thirdlane.api.errors import Conflict, DomainError, InUse, Invalid
from thirdlane.services import check_fields, delete, record_change, save

ORGANIZATION_FIELDS = {"name", "slug", "reseller", "description"}
MEMBER_FIELDS = {"site_code", "location", "address", "timezone"}


# --- payloads ------------------------------------------------------------------------------------

def organization_payload(organization: Organization, *, member_count: int | None = None) -> dict[str, Any]:
    if member_count is None:
        member_count = organization.members.count() if organization.pk else 0
    return {
        "id": organization.pk,
        "slug": organization.slug,
        "name": organization.name,
        "description": organization.description,
        "reseller": {"id": organization.reseller_id, "slug": organization.reseller.slug},
        "member_count": member_count,
    }


def member_payload(member: OrganizationMember) -> dict[str, Any]:
    org = member.organization
    return {
        "organization": {"id": org.pk, "slug": org.slug, "name": org.name},
        "tenant": {"id": member.tenant_id, "slug": member.tenant.slug},
        "site_code": member.site_code,
        "location": member.location.code if member.location_id else None,
        "address": member.address,
        "timezone": member.timezone,
    }


# --- validation ----------------------------------------------------------------------------------

def _full_clean(instance, exclude: list[str] | None = None) -> None:
    """Model field validation as a 400 with per-field codes (uniqueness is checked by the callers)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {field: [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in errs]
                  for field, errs in exc.error_dict.items()}
        raise Invalid("Invalid fields: " + ", ".join(sorted(errors)) + ".", errors=errors) from exc


def overlapping(code_a: str, length_a: int, code_b: str, length_b: int) -> bool:
    """Two inter-site dial strings (site code + N extension digits) can be the same number."""
    if len(code_a) + length_a != len(code_b) + length_b:
        return False
    return code_a.startswith(code_b) or code_b.startswith(code_a)


def validate_member(*, organization: Organization, tenant: Tenant, site_code: str,
                    member: OrganizationMember | None = None, ignore: set[int] = frozenset()) -> None:
    """The cross-object rules of a membership (a new one, or ``member`` being changed).

    ``ignore``: tenants whose stored site codes do not count (the admin form changes them in
    the same submission and checks them among themselves).
    """
    if member is None:
        existing = OrganizationMember.objects.filter(tenant=tenant).select_related("organization").first()
        if existing is not None:
            where = "this organization" if existing.organization_id == organization.pk else "another organization"
            raise Conflict(f"Tenant {tenant.slug} already belongs to {where}.", code="tenant_in_organization",
                           field="tenant")
        if tenant.reseller_id != organization.reseller_id:
            raise DomainError(f"Tenant {tenant.slug} belongs to another reseller than the organization.",
                              code="tenant_reseller_mismatch", field="tenant")
    others = (OrganizationMember.objects.filter(organization=organization).exclude(tenant=tenant)
              .exclude(tenant_id__in=ignore)
              .values_list("site_code", "tenant__slug", "tenant__extension_length"))
    for other_code, other_slug, other_length in others:
        if other_code == site_code:
            raise Conflict(f"Site code {site_code} is already used by {other_slug}.", code="site_code_taken",
                           field="site_code")
        if overlapping(site_code, tenant.extension_length, other_code, other_length):
            raise Conflict(
                f"Site code {site_code} with {tenant.extension_length}-digit extensions overlaps site {other_code} "
                f"({other_slug}, {other_length}-digit extensions): one dialed number could reach both.",
                code="site_code_ambiguous", field="site_code")


# --- organizations -------------------------------------------------------------------------------

def _check_slug(slug: str, exclude_pk: int | None = None) -> None:
    if Organization.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        raise Conflict(f"The slug {slug!r} is already used.", code="duplicate", field="slug")


@transaction.atomic
def organization_create(*, actor, name: str, slug: str, reseller: Reseller, description: str = "") -> Organization:
    organization = Organization(name=name, slug=slug, reseller=reseller, description=description)
    _full_clean(organization)
    _check_slug(slug)
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as exc:  # a concurrent creation took the slug
        raise Conflict(f"The slug {slug!r} is already used.", code="duplicate", field="slug") from exc
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=organization, reseller_id=reseller.pk,
                  event_type="organization.created", event_data=organization_payload(organization, member_count=0))
    return organization


@transaction.atomic
def organization_update(*, actor, instance: Organization, **fields: Any) -> Organization:
    unknown = set(fields) - ORGANIZATION_FIELDS
    if unknown:
        raise Invalid(f"Unknown organization fields: {', '.join(sorted(unknown))}.")
    organization = Organization.objects.select_for_update().select_related("reseller").get(pk=instance.pk)
    before = snapshot(organization)
    reseller = fields.get("reseller")
    if reseller is not None and reseller.pk != organization.reseller_id and organization.members.exists():
        raise InUse("An organization with members cannot move to another reseller; remove its members first.",
                    field="reseller")
    for key, value in fields.items():
        setattr(organization, key, value)
    _full_clean(organization)
    if "slug" in fields:
        _check_slug(organization.slug, exclude_pk=organization.pk)
    organization.save()
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=organization, before=before,
                  reseller_id=organization.reseller_id, event_type="organization.updated",
                  event_data=organization_payload(organization))
    return organization


@transaction.atomic
def organization_delete(*, actor, instance: Organization) -> None:
    """Delete the organization; its members leave it first (each a ``member.removed``), tenants stay."""
    organization = Organization.objects.select_for_update().select_related("reseller").get(pk=instance.pk)
    members = list(organization.members.select_related("tenant__reseller", "location"))
    for member in members:
        member.organization = organization
        _remove(actor=actor, member=member)
    payload = organization_payload(organization, member_count=0)
    delete(actor=actor, instance=organization, reseller_id=payload["reseller"]["id"], prefix="organization",
           payload=payload)


# --- members -------------------------------------------------------------------------------------

@transaction.atomic
def organization_member_add(*, actor, organization: Organization, tenant: Tenant, site_code: str,
                            location=None, address: str = "", timezone: str = "") -> OrganizationMember:
    # The organization row lock serialises membership changes, so the site code checks hold.
    organization = Organization.objects.select_for_update().select_related("reseller").get(pk=organization.pk)
    member = OrganizationMember(organization=organization, tenant=tenant, site_code=site_code, location=location,
                                address=address, timezone=timezone)
    _full_clean(member)
    validate_member(organization=organization, tenant=tenant, site_code=site_code)
    _save_member(member)
    record_change(actor=actor, action=AuditEntry.Action.CREATE, instance=member, tenant=tenant,
                  event_type="organization.member.added", event_data=member_payload(member))
    return member


@transaction.atomic
def organization_member_update(*, actor, member: OrganizationMember, **fields: Any) -> OrganizationMember:
    check_fields(fields, MEMBER_FIELDS)
    Organization.objects.select_for_update().filter(pk=member.organization_id).first()
    member = (OrganizationMember.objects.select_related("organization__reseller", "tenant", "location")
              .get(pk=member.pk))
    before = snapshot(member)
    for key, value in fields.items():
        setattr(member, key, value)
    _full_clean(member)
    validate_member(organization=member.organization, tenant=member.tenant, site_code=member.site_code, member=member)
    _save_member(member)
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=member, before=before,
                  tenant=member.tenant, event_type="organization.member.updated", event_data=member_payload(member))
    return member


def _save_member(member: OrganizationMember) -> None:
    """Save; a unique constraint that a concurrent writer won (despite the organization lock,
    e.g. the tenant joining another organization) becomes the same 409 as the checks give."""
    def conflict(exc: IntegrityError) -> Conflict:
        if "organization_site_code_unique" in str(exc):
            return Conflict(f"Site code {member.site_code} is already used.", code="site_code_taken",
                            field="site_code")
        return Conflict(f"Tenant {member.tenant.slug} already belongs to an organization.",
                        code="tenant_in_organization", field="tenant")

    save(member, conflict=conflict)


def _remove(*, actor, member: OrganizationMember) -> None:
    # Only the membership row: the tenant and its schema stay.
    delete(actor=actor, instance=member, tenant=member.tenant, event_type="organization.member.removed",
           payload=member_payload(member))


@transaction.atomic
def organization_member_remove(*, actor, member: OrganizationMember) -> None:
    Organization.objects.select_for_update().filter(pk=member.organization_id).first()
    _remove(actor=actor, member=member)
