"""Every write to phones: ``phone_<action>(*, actor, tenant, ...)``, one transaction each.

A phone is two rows: ``Phone`` (with its lines) in the tenant's schema and its ``Device`` in the
platform index (MAC, credential). The service writes both, so a MAC is unique across the
platform by the index's unique constraint: a MAC another tenant provisioned is 409
``mac_taken``, which never says whose it is.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError

from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from apps.provisioning import catalog, credentials, macs
from apps.provisioning.models import Phone, PhoneLine
from apps.provisioning.registry.models import Device
from apps.telephony.models import Extension
from apps.telephony.services.common import (
    check_fields, clean, record_created, record_updated, resolve_ids, save, tenant_service,
)
from apps.telephony.validators import validate_text
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import delete, record_change

PREFIX = "config.phone"
PHONE_FIELDS = {"vendor", "model", "name", "lines", "password", "admin_password", "enabled"}


def phone_payload(phone: Phone, tenant) -> dict[str, Any]:
    """The event payload: no password, no SIP secret."""
    return {"id": phone.pk, "mac": phone.mac, "vendor": phone.vendor, "model": phone.model, "name": phone.name,
            "enabled": phone.enabled,
            "lines": [{"position": line.position, "extension": line.extension_id, "number": line.extension.number,
                       "phone_username": line.extension.phone_username_for(tenant.slug), "label": line.label}
                      for line in phone.lines.select_related("extension").order_by("position")]}


# --- validation ----------------------------------------------------------------------------------
def normalize_mac(value, *, field: str = "mac") -> str:
    mac = macs.normalize(value)
    if mac is None:
        raise DomainError(f"{value!r} is not a MAC address a phone can have (12 hex digits, not multicast).",
                          code="invalid_mac", field=field)
    return mac


def ensure_mac_free(mac: str, tenant, *, phone: Phone | None = None) -> None:
    owner = Device.objects.filter(mac=mac).values_list("tenant_id", "phone_id").first()
    if owner is None or (phone is not None and owner == (tenant.pk, phone.pk)):
        return
    if owner[0] == tenant.pk:
        raise Conflict(f"Phone {owner[1]} of this tenant already has the MAC address {mac}.", code="duplicate",
                       field="mac")
    # Never say which tenant: that would tell one customer about another.
    raise Conflict(f"The MAC address {mac} is already provisioned on this platform.", code="mac_taken", field="mac")


def _mac_taken(exc: IntegrityError) -> Conflict:
    return Conflict("The MAC address is already provisioned on this platform.", code="mac_taken", field="mac")


def _vendor_model(phone: Phone, fields: dict[str, Any]) -> None:
    vendor = fields.get("vendor", phone.vendor if "model" not in fields else None)
    model = fields.get("model", phone.model)
    if not vendor:  # given a model alone: its vendor
        vendor = catalog.vendor_of_model(model) if isinstance(model, str) else None
    if vendor not in catalog.VENDORS:
        raise Invalid(f"Unknown vendor {vendor!r}; one of: {', '.join(catalog.VENDORS)}.", field="vendor")
    if model not in catalog.models_of(vendor):
        raise DomainError(f"{model!r} is not a {catalog.VENDORS[vendor].label} model; one of: "
                          f"{', '.join(catalog.models_of(vendor))}.", code="invalid_model", field="model")
    phone.vendor, phone.model = vendor, model


def _lines(phone: Phone, rows: list) -> list[PhoneLine]:
    """The lines as given (positions filled in order where absent), checked against the model."""
    if not isinstance(rows, list):
        raise Invalid("lines is a list of {position, extension, label}.", field="lines")
    found = resolve_ids(Extension, [row.get("extension") if isinstance(row, dict) else None for row in rows],
                        field="lines") if rows else {}
    limit = catalog.max_lines(phone.vendor, phone.model)
    taken = {row["position"] for row in rows if isinstance(row, dict) and row.get("position") is not None}
    free = (p for p in range(1, 1000) if p not in taken)
    lines, positions, extensions = [], set(), set()
    for index, row in enumerate(rows):
        f = f"lines[{index}]"
        if not isinstance(row, dict) or set(row) - {"position", "extension", "label"}:
            raise Invalid("A line has position, extension and label.", field=f)
        position = row.get("position")
        if position is None:
            position = next(free)
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise Invalid("The position is a whole number from 1.", field=f"{f}.position")
        if position > limit:
            raise DomainError(f"A {phone.model} has {limit} line{'s' if limit > 1 else ''}; position {position} "
                              "does not exist on it.", code="too_many_lines", field=f"{f}.position")
        extension = found[int(row["extension"].pk if isinstance(row["extension"], Extension) else row["extension"])]
        if position in positions or extension.pk in extensions:
            what = "position" if position in positions else "extension"
            raise DomainError(f"Two lines use the same {what}.", code="duplicate_line", field=f"{f}.{what}")
        positions.add(position)
        extensions.add(extension.pk)
        label = validate_text(row.get("label") or "", field=f"{f}.label")
        if len(label) > 40:
            raise Invalid("At most 40 characters.", field=f"{f}.label")
        lines.append(PhoneLine(phone=phone, position=position, extension=extension, label=label))
    return lines


def _set_lines(phone: Phone, lines: list[PhoneLine]) -> None:
    phone.lines.all().delete()
    PhoneLine.objects.bulk_create(lines)
    if hasattr(phone, "_prefetched_objects_cache"):
        phone._prefetched_objects_cache.pop("lines", None)


def _apply(phone: Phone, fields: dict[str, Any]) -> None:
    if "vendor" in fields or "model" in fields or not phone.pk:
        _vendor_model(phone, fields)
    for name in ("name", "enabled"):
        if name in fields:
            value = fields[name]
            setattr(phone, name, validate_text(value, field=name) if name == "name" and isinstance(value, str)
                    else value)
    admin = fields.get("admin_password")
    if admin:
        phone.admin_password = credentials.validate_admin_password(admin)
    elif not phone.admin_password:
        phone.admin_password = credentials.generate(16)


# --- services --------------------------------------------------------------------------------------
@tenant_service
def phone_create(*, actor, tenant, mac: str, **fields: Any) -> Phone:
    """A new phone. Without a ``password`` one is generated; it is returned once, on the
    instance's ``generated_password``."""
    check_fields(fields, PHONE_FIELDS)
    phone = Phone(mac=normalize_mac(mac))
    ensure_mac_free(phone.mac, tenant)
    _apply(phone, fields)
    lines = _lines(phone, fields.get("lines") or [])
    password = fields.get("password")
    password = credentials.validate_password(password) if password else None
    clean(phone, exclude=["vendor", "model"])  # checked above against the catalogue, with its own codes
    save(phone, field="mac")
    _set_lines(phone, lines)
    device = Device(mac=phone.mac, tenant=tenant, phone_id=phone.pk, password=password or credentials.generate())
    save(device, conflict=_mac_taken)
    phone.generated_password = None if password else device.password
    record_created(actor=actor, tenant=tenant, instance=phone, prefix=PREFIX, payload=phone_payload(phone, tenant))
    return phone


@tenant_service
def phone_update(*, actor, tenant, instance: Phone, **fields: Any) -> Phone:
    check_fields(fields, PHONE_FIELDS | {"mac"})
    before = snapshot(instance)
    device = Device.objects.select_for_update().get(tenant=tenant, phone_id=instance.pk)
    if "mac" in fields:
        mac = normalize_mac(fields["mac"])
        if mac != instance.mac:
            ensure_mac_free(mac, tenant, phone=instance)
            instance.mac = device.mac = mac
    _apply(instance, fields)
    lines = _lines(instance, fields["lines"]) if "lines" in fields else None
    if lines is None and ("model" in fields or "vendor" in fields):  # the lines must fit the new model
        lines = _lines(instance, [{"position": line.position, "extension": line.extension_id, "label": line.label}
                                  for line in instance.lines.all()])
    if fields.get("password"):
        device.rotate(credentials.validate_password(fields["password"]), grace_seconds=_grace())
    clean(instance, exclude=["vendor", "model"])
    save(instance, field="mac")
    if lines is not None:
        _set_lines(instance, lines)
    save(device, conflict=_mac_taken)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=phone_payload(instance, tenant))
    return instance


@tenant_service
def phone_delete(*, actor, tenant, instance: Phone) -> None:
    payload = phone_payload(instance, tenant)
    Device.objects.filter(tenant=tenant, phone_id=instance.pk).delete()
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=payload)


@tenant_service
def phone_regenerate_credential(*, actor, tenant, instance: Phone, grace_hours: int | None = None) -> str:
    """A new provisioning password, returned once. The previous one keeps working for
    ``grace_hours`` (default ``PROVISIONING_CREDENTIAL_GRACE_HOURS``; 0 revokes it at once): the
    phone fetches its next file with it, and that file carries the new one."""
    device = Device.objects.select_for_update().get(tenant=tenant, phone_id=instance.pk)
    device.rotate(credentials.generate(), grace_seconds=_grace() if grace_hours is None else grace_hours * 3600)
    device.save(update_fields=["password", "previous_password", "previous_valid_until", "updated_at"])
    record_change(actor=actor, action=AuditEntry.Action.UPDATE, instance=instance, before=snapshot(instance),
                  tenant=tenant, verb="regenerate_credential")
    return device.password


def _grace() -> int:
    return settings.PROVISIONING_CREDENTIAL_GRACE_HOURS * 3600
