"""Extensions: create, update, delete, and bulk creation of a range in one transaction."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.audit.services import snapshot
from apps.pbx.models import Location
from apps.telephony.models import Extension
from apps.telephony.selectors import number_owner, numbers_taken
from apps.telephony.services.common import (
    advisory_lock,
    check_fields,
    check_limit,
    clean,
    delete,
    record_created,
    record_updated,
    save,
    tenant_service,
)
from apps.telephony.validators import (
    generate_pin,
    generate_secret,
    validate_codecs,
    validate_internal_number,
    validate_pin,
    validate_secret,
    validate_text,
)
from thirdlane.api.errors import Conflict, DomainError, Invalid
from thirdlane.services import record_created_many, record_updated_many

PREFIX = "config.extension"
EXTENSION_FIELDS = {
    "name", "email", "sip_secret", "location", "caller_id_name", "caller_id_number", "voicemail_enabled",
    "voicemail_pin", "forward_always", "forward_busy", "forward_no_answer", "ring_time", "dnd", "max_contacts",
    "codecs", "recording_inbound", "recording_outbound", "enabled", "followme_enabled", "followme_numbers",
    "followme_delay",
}
# The per-user call settings: feature codes change them too, and the PBX keeps the newest
# (Extension.settings_version, apps.pbx.render.callsettings).
CALL_SETTINGS = ("dnd", "forward_always", "forward_busy", "forward_no_answer", "followme_enabled",
                 "followme_numbers", "followme_delay")
MAX_FOLLOWME = 10


def primary_server_name(tenant) -> str | None:
    return tenant.primary_server.name if tenant.primary_server_id else None


def primary_server_sip(tenant) -> dict[str, Any] | None:
    """Where the tenant's phones send SIP: what cluster-aware routing needs, not only the name."""
    if not tenant.primary_server_id:
        return None
    server = tenant.primary_server
    return {"address": server.sip_address, "port": server.sip_port}


def extension_payload(ext: Extension, tenant) -> dict[str, Any]:
    """The event payload: what a provisioning system needs, never a secret."""
    return {
        "id": ext.pk, "number": ext.number, "name": ext.name, "email": ext.email,
        "phone_username": ext.phone_username_for(tenant.slug),
        "location": ext.location.code if ext.location_id else None,
        "primary_server": primary_server_name(tenant), "primary_server_sip": primary_server_sip(tenant),
        "caller_id_name": ext.caller_id_name, "caller_id_number": ext.caller_id_number,
        "voicemail_enabled": ext.voicemail_enabled, "dnd": ext.dnd, "enabled": ext.enabled,
        "codecs": list(ext.codecs), "max_contacts": ext.max_contacts,
        "recording_inbound": ext.recording_inbound, "recording_outbound": ext.recording_outbound,
        "forward_always": ext.forward_always, "forward_busy": ext.forward_busy,
        "forward_no_answer": ext.forward_no_answer, "followme_enabled": ext.followme_enabled,
        "followme_numbers": list(ext.followme_numbers or []), "settings_version": ext.settings_version,
    }


def _location(value, field: str = "location") -> Location | None:
    if value is None or value == "" or isinstance(value, Location):
        return value or None
    location = Location.objects.filter(pk=value).first() if str(value).isdigit() else \
        Location.objects.filter(code=value).first()
    if location is None:
        raise DomainError(f"No location {value!r}.", code="reference_not_found", field=field)
    return location


def ensure_number_free(number: str, *, instance=None, field: str = "number") -> None:
    owner = number_owner(number, exclude=instance)
    if owner:
        raise Conflict(f"{number} is already used by {owner}.", code="duplicate_number", field=field)


def change_number(instance, tenant, fields: dict, *, field: str = "number", length: int | None = None,
                  optional: bool = False) -> None:
    """An update's new internal number, if ``fields`` has one that differs: popped from ``fields``,
    validated, checked free in the tenant's number plan (under its lock) and set on ``instance``.
    ``optional``: an empty value clears it (an IVR without a number of its own)."""
    if field not in fields:
        return
    value = fields.pop(field)
    if optional:
        value = value or None
    if value == getattr(instance, field):
        return
    if value is not None or not optional:
        value = validate_internal_number(value, length=length, field=field)
        advisory_lock("number_plan", tenant.schema_name)
        ensure_number_free(value, instance=instance, field=field)
    setattr(instance, field, value)


def _apply(ext: Extension, fields: dict[str, Any], *, prefix: str = "") -> None:
    """Set fields on an extension, validating secrets and codecs; fills generated secrets."""
    f = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    for name, value in fields.items():
        if name == "codecs":
            value = validate_codecs(value, field=f("codecs"))
        elif name == "location":
            value = _location(value, f("location"))
        elif name in ("sip_secret", "voicemail_pin"):
            continue  # below, once the number is known
        elif name in ("name", "caller_id_name") and isinstance(value, str):
            value = validate_text(value, field=f(name))
        elif name == "followme_numbers":
            value = _followme_numbers(value, ext, field=f(name))
        setattr(ext, name, value)
    secret = fields.get("sip_secret")
    if secret:
        ext.sip_secret = validate_secret(secret, number=ext.number, field=f("sip_secret"))
    elif not ext.sip_secret:
        ext.sip_secret = generate_secret()
    pin = fields.get("voicemail_pin")
    if pin:
        ext.voicemail_pin = validate_pin(pin, number=ext.number, field=f("voicemail_pin"))
    elif ext.voicemail_enabled and not ext.voicemail_pin:
        ext.voicemail_pin = generate_pin()


def _followme_numbers(value, ext: Extension, *, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise Invalid("A list of numbers.", field=field)
    if len(value) > MAX_FOLLOWME:
        raise Invalid(f"At most {MAX_FOLLOWME} follow-me numbers.", field=field)
    out = []
    for index, number in enumerate(value):
        number = str(number).strip()
        if number == ext.number:
            raise Invalid("An extension does not follow itself.", field=f"{field}[{index}]")
        if number in out:
            raise Conflict(f"{number} is listed twice.", code="duplicate", field=f"{field}[{index}]")
        out.append(number)
    return out


def _bump_settings(ext: Extension, before: dict) -> bool:
    if any(before.get(name) != getattr(ext, name) for name in CALL_SETTINGS):
        ext.settings_version = (ext.settings_version or 0) + 1
        return True
    return False


@tenant_service
def extension_create(*, actor, tenant, number: str, name: str, **fields: Any) -> Extension:
    check_fields(fields, EXTENSION_FIELDS)
    number = validate_internal_number(number, length=tenant.extension_length)
    advisory_lock("number_plan", tenant.schema_name)
    check_limit(tenant, current=Extension.objects.count(), adding=1, limit=tenant.max_extensions,
                noun="extensions", field="number")
    ensure_number_free(number)
    ext = Extension(number=number)
    _apply(ext, {"name": name, **fields})
    clean(ext)
    save(ext)
    record_created(actor=actor, tenant=tenant, instance=ext, prefix=PREFIX, payload=extension_payload(ext, tenant))
    return ext


@tenant_service
def extension_update(*, actor, tenant, instance: Extension, **fields: Any) -> Extension:
    check_fields(fields, EXTENSION_FIELDS | {"number"})
    before = snapshot(instance)
    previous = instance.phone_username_for(tenant.slug)
    change_number(instance, tenant, fields, length=tenant.extension_length)
    settings_before = {name: getattr(instance, name) for name in CALL_SETTINGS}
    _apply(instance, fields)
    settings_changed = _bump_settings(instance, settings_before)
    clean(instance)
    save(instance)
    if settings_changed:
        from apps.telephony.tasks import push_call_settings_later

        push_call_settings_later(tenant, instance)  # AstDB on the PBX at once (apps/telephony/tasks.py)
    payload = extension_payload(instance, tenant)
    if payload["phone_username"] != previous:
        payload["previous_phone_username"] = previous  # the PBX endpoint to retire
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX, payload=payload)
    return instance


@tenant_service
def extension_delete(*, actor, tenant, instance: Extension) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=extension_payload(instance, tenant))


# --- bulk --------------------------------------------------------------------------------------
BULK_MAX = getattr(settings, "TELEPHONY_BULK_MAX", 2000)
MAX_ROW_ERRORS = 50


def range_rows(start: str, end: str, name_template: str, *, length: int) -> list[dict[str, Any]]:
    start = validate_internal_number(start, length=length, field="start")
    end = validate_internal_number(end, length=length, field="end")
    if int(end) < int(start):
        raise Invalid("end must not be lower than start.", field="end")
    if int(end) - int(start) + 1 > BULK_MAX:
        raise DomainError(f"At most {BULK_MAX} extensions per request.", code="limit_exceeded", field="end")
    rows = []
    for n in range(int(start), int(end) + 1):
        number = str(n).zfill(length)
        try:
            name = name_template.format(number=number)
        except (KeyError, IndexError, ValueError) as exc:
            raise Invalid(f"name_template may only use {{number}} ({exc}).", field="name_template") from None
        rows.append({"number": number, "name": name[:100]})
    return rows


@tenant_service
def extension_bulk_create(*, actor, tenant, rows: list[dict[str, Any]] | None = None, start: str | None = None,
                          end: str | None = None, name_template: str = "Ext {number}",
                          defaults: dict[str, Any] | None = None) -> list[Extension]:
    """Create many extensions, all or nothing; a bad row is named ``rows[<i>].<field>``.

    One INSERT for the extensions, one for their audit entries and one for their events (one
    ``config.extension.created`` per extension, marked ``bulk: true``).
    """
    defaults = dict(defaults or {})
    check_fields(defaults, EXTENSION_FIELDS - {"name", "sip_secret", "voicemail_pin"})
    if rows is None:
        if start is None or end is None:
            raise Invalid("Give rows, or start and end.", field="rows")
        rows = range_rows(str(start), str(end), name_template, length=tenant.extension_length)
    if not rows:
        raise Invalid("No rows.", field="rows")
    if len(rows) > BULK_MAX:
        raise DomainError(f"At most {BULK_MAX} extensions per request.", code="limit_exceeded", field="rows")
    advisory_lock("number_plan", tenant.schema_name)
    check_limit(tenant, current=Extension.objects.count(), adding=len(rows), limit=tenant.max_extensions,
                noun="extensions", field="rows")

    errors: dict[str, list] = {}

    def error(index: int, field: str, code: str, message: str):
        errors.setdefault(f"rows[{index}].{field}", []).append({"code": code, "message": message})

    numbers: list[str] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            number = validate_internal_number(str(row.get("number", "")), length=tenant.extension_length)
        except DomainError as exc:
            error(index, "number", exc.code, exc.detail)
            number = ""
        if number and number in seen:
            error(index, "number", "duplicate_number", f"{number} is also in rows[{seen[number]}].")
        seen.setdefault(number, index)
        numbers.append(number)
    taken = numbers_taken([n for n in numbers if n])
    for index, number in enumerate(numbers):
        if number in taken:
            error(index, "number", "duplicate_number", f"{number} is already used by a {taken[number]}.")

    location = _location(defaults.pop("location", None), "defaults.location") if "location" in defaults else None
    if "codecs" in defaults:
        defaults["codecs"] = validate_codecs(defaults["codecs"], field="defaults.codecs")
    extensions: list[Extension] = []
    for index, row in enumerate(rows):
        if len(errors) >= MAX_ROW_ERRORS:
            break
        fields = {**defaults, **{k: v for k, v in row.items() if k != "number"}}
        unknown = set(fields) - EXTENSION_FIELDS
        for name in sorted(unknown):
            error(index, name, "unknown_field", "Not a field of an extension.")
        ext = Extension(number=numbers[index], location=location)
        try:
            _apply(ext, {k: v for k, v in fields.items() if k in EXTENSION_FIELDS}, prefix=f"rows[{index}]")
            clean(ext, prefix=f"rows[{index}]", exclude=["number"])
        except DomainError as exc:
            for key, items in (exc.errors or {f"rows[{index}]": [{"code": exc.code, "message": exc.detail}]}).items():
                errors.setdefault(key, []).extend(items)
        extensions.append(ext)
    if errors:
        first = next(iter(errors))
        raise Invalid(f"{len(errors)} invalid row field(s), first: {first}.", errors=errors)

    Extension.objects.bulk_create(extensions, batch_size=500)
    _record_bulk(actor=actor, tenant=tenant, extensions=extensions)
    return extensions


def _record_bulk(*, actor, tenant, extensions: list[Extension]) -> None:
    payloads = [{**extension_payload(ext, tenant), "bulk": True} for ext in extensions]
    record_created_many(actor=actor, tenant=tenant, instances=extensions, prefix=PREFIX, payloads=payloads)


def extension_republish(*, tenant, cause: str) -> int:
    """Re-emit ``config.extension.updated`` for every extension of ``tenant`` (one SELECT, one
    INSERT), in the caller's transaction: a tenant moved to another server changes where its
    phones register, and receivers routing by ``primary_server`` must not keep the old one."""
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name):
        extensions = list(Extension.objects.select_related("location").order_by("number"))
        payloads = [{**extension_payload(ext, tenant), "cause": cause} for ext in extensions]
    record_updated_many(tenant=tenant, prefix=PREFIX, payloads=payloads)
    return len(payloads)
