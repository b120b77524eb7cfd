"""IVRs (auto attendants) with their digit options."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import Ivr, IvrOption
from apps.telephony.services.common import (
    check_fields, clean, delete, record_created, record_updated, save, tenant_service,
)
from apps.telephony.services.extensions import change_number
from apps.telephony.validators import (
    validate_destination, validate_sound, validate_text,
)
from thirdlane.api.errors import DomainError, Invalid

PREFIX = "config.ivr"
IVR_FIELDS = {"number", "greeting_recording", "greeting_text", "timeout", "repeat_count", "direct_dial", "invalid",
              "timeout_dest", "options"}


def ivr_payload(ivr: Ivr) -> dict[str, Any]:
    return {"id": ivr.pk, "number": ivr.number, "name": ivr.name, "direct_dial": ivr.direct_dial,
            "invalid_destination": ivr.invalid.as_dict(), "timeout_destination": ivr.timeout_dest.as_dict(),
            "options": [{"digit": o.digit, "destination": o.dest.as_dict()} for o in ivr.options.all()]}


def _options(tenant, raw: list[dict]) -> list[IvrOption]:
    options, digits = [], {}
    for i, row in enumerate(raw):
        unknown = set(row) - {"digit", "dest"}
        if unknown:
            raise Invalid(f"Unknown option fields: {', '.join(sorted(unknown))}.", field=f"options[{i}]")
        digit = str(row.get("digit", ""))
        if digit in digits:
            raise DomainError(f"Digit {digit} is already used by options[{digits[digit]}].", code="duplicate_digit",
                              field=f"options[{i}].digit")
        digits[digit] = i
        option = IvrOption(digit=digit)
        option.dest = validate_destination(tenant, row.get("dest"), field=f"options[{i}].destination")
        clean(option, prefix=f"options[{i}]", exclude=["ivr"])
        options.append(option)
    return options


def _apply(ivr: Ivr, tenant, fields: dict[str, Any]) -> list[IvrOption] | None:
    options = fields.pop("options", None)
    change_number(ivr, tenant, fields, optional=True)
    for name, value in fields.items():
        if name == "invalid":
            ivr.invalid = validate_destination(tenant, value, field="invalid_destination")
        elif name == "timeout_dest":
            ivr.timeout_dest = validate_destination(tenant, value, field="timeout_destination")
        elif name == "greeting_recording":
            ivr.greeting_recording = validate_sound(value, field="greeting_recording")
        elif name == "name":
            ivr.name = validate_text(value, field="name")
        else:
            setattr(ivr, name, value)
    return _options(tenant, options) if options is not None else None


def _set_options(ivr: Ivr, options: list[IvrOption]) -> None:
    ivr.options.all().delete()
    for option in options:
        option.ivr = ivr
    IvrOption.objects.bulk_create(options)
    if hasattr(ivr, "_prefetched_objects_cache"):
        ivr._prefetched_objects_cache.pop("options", None)


@tenant_service
def ivr_create(*, actor, tenant, name: str, **fields: Any) -> Ivr:
    check_fields(fields, IVR_FIELDS)
    ivr = Ivr()
    options = _apply(ivr, tenant, {"name": name, **fields})
    clean(ivr)
    save(ivr)
    _set_options(ivr, options or [])
    record_created(actor=actor, tenant=tenant, instance=ivr, prefix=PREFIX, payload=ivr_payload(ivr))
    return ivr


@tenant_service
def ivr_update(*, actor, tenant, instance: Ivr, **fields: Any) -> Ivr:
    check_fields(fields, IVR_FIELDS | {"name"})
    before = snapshot(instance)
    options = _apply(instance, tenant, fields)
    clean(instance)
    save(instance)
    if options is not None:
        _set_options(instance, options)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=ivr_payload(instance))
    return instance


@tenant_service
def ivr_delete(*, actor, tenant, instance: Ivr) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=ivr_payload(instance))
