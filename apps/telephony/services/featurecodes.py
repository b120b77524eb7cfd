"""Feature codes of a tenant: a row per feature whose code differs from the default or that is
turned off (apps.telephony.features has the features and their defaults). Every write checks the
tenant's whole set of enabled codes: no two equal, none starting with a code that takes digits."""
from __future__ import annotations

import re
from typing import Any

from apps.audit.services import snapshot
from apps.telephony.features import BY_KEY, CODE_PATTERN, conflicts, effective
from apps.telephony.models import FeatureCode
from apps.telephony.services.common import (
    check_fields, clean, delete, record_created, record_updated, save, tenant_service,
)
from thirdlane.api.errors import Conflict, DomainError, Invalid

PREFIX = "config.feature_code"
_CODE = re.compile(CODE_PATTERN)


def feature_code_payload(fc: FeatureCode) -> dict[str, Any]:
    feature = BY_KEY.get(fc.feature)
    return {"id": fc.pk, "feature": fc.feature, "code": fc.code, "enabled": fc.enabled,
            "default": feature.default if feature else None}


def _check_set(changed: FeatureCode | None, *, removed: FeatureCode | None = None) -> None:
    rows = {fc.feature: fc for fc in FeatureCode.objects.all()}
    if removed is not None:
        rows.pop(removed.feature, None)
    if changed is not None:
        rows[changed.feature] = changed
    codes = [(e.feature.key, e.code, bool(e.feature.argument)) for e in effective(rows.values()) if e.enabled]
    for key, other, why in conflicts(codes):
        subject = changed.feature if changed is not None else (removed.feature if removed else key)
        if subject in (key, other):
            field = "code" if changed is not None else "feature"
            raise Conflict(f"Feature code clash: {key} and {other}: {why}.", code="feature_code_conflict",
                           field=field, extra={"features": [key, other]})


def _apply(fc: FeatureCode, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "feature":
            if value not in BY_KEY:
                raise DomainError(f"Unknown feature {value!r}; known: {', '.join(BY_KEY)}.", code="validation_error",
                                  field="feature")
        elif name == "code":
            value = str(value or "")
            if not _CODE.match(value):
                raise Invalid("A code is 2 to 8 of 0-9, * and #.", field="code")
        setattr(fc, name, value)


@tenant_service
def feature_code_create(*, actor, tenant, feature: str, **fields: Any) -> FeatureCode:
    check_fields(fields, {"code", "enabled"})
    fc = FeatureCode()
    _apply(fc, {"feature": feature, **fields})
    if not fc.code:
        fc.code = BY_KEY[feature].default
    if FeatureCode.objects.filter(feature=feature).exists():
        raise Conflict(f"Feature {feature} already has its code; update it.", code="duplicate", field="feature")
    _check_set(fc)
    clean(fc)
    save(fc, field="code")
    record_created(actor=actor, tenant=tenant, instance=fc, prefix=PREFIX, payload=feature_code_payload(fc))
    return fc


@tenant_service
def feature_code_update(*, actor, tenant, instance: FeatureCode, **fields: Any) -> FeatureCode:
    check_fields(fields, {"feature", "code", "enabled"})
    before = snapshot(instance)
    if "feature" in fields and fields["feature"] != instance.feature:
        raise Invalid("The feature of a code cannot change; delete it and create another.", field="feature")
    _apply(instance, fields)
    _check_set(instance)
    clean(instance)
    save(instance, field="code")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=feature_code_payload(instance))
    return instance


@tenant_service
def feature_code_delete(*, actor, tenant, instance: FeatureCode) -> None:
    """The feature goes back to its default code (refused if that clashes with another code)."""
    _check_set(None, removed=instance)
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=feature_code_payload(instance))
