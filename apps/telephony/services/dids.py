"""DIDs: E.164 numbers, unique across the whole platform.

Platform-wide uniqueness without a public table: the service takes a transaction-scoped advisory
lock on the number (the same lock in every tenant, since advisory locks are database-wide), then
looks for the number in every tenant schema with one UNION ALL query. Two tenants adding the same
number at once serialise on the lock; the second one's look-up runs after the first committed and
sees its row (READ COMMITTED takes a new snapshot per statement).
"""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import Did
from apps.telephony.selectors import did_owner
from apps.telephony.services.common import (
    advisory_lock, check_fields, check_limit, clean, delete, record_created, record_updated, save, tenant_service,
)
from apps.telephony.validators import normalize_e164, validate_destination
from thirdlane.api.errors import Conflict

PREFIX = "config.did"
DID_FIELDS = {"description", "dest", "caller_id_prefix", "enabled", "sms_enabled"}


def did_payload(did: Did) -> dict[str, Any]:
    return {"id": did.pk, "number": did.number, "description": did.description,
            "destination": did.dest.as_dict(), "enabled": did.enabled,
            "sms_enabled": did.sms_enabled}


def claim_number(tenant, raw: str, *, instance: Did | None = None, field: str = "number") -> str:
    """Normalise to E.164, lock the number platform-wide and make sure nobody holds it."""
    number = normalize_e164(raw, region=tenant.default_region, field=field)
    advisory_lock("did", number)
    owner = did_owner(number, exclude_schema=tenant.schema_name, exclude_pk=instance.pk if instance else None)
    if owner == tenant.slug:
        raise Conflict(f"{number} is already a DID of this tenant.", code="number_taken", field=field)
    if owner:
        # Never say which tenant: that would leak another customer's data.
        raise Conflict(f"{number} is already assigned on this platform.", code="number_taken", field=field)
    return number


def _apply(did: Did, tenant, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name == "dest":
            did.dest = validate_destination(tenant, value, field="destination")
        else:
            setattr(did, name, value)


@tenant_service
def did_create(*, actor, tenant, number: str, **fields: Any) -> Did:
    check_fields(fields, DID_FIELDS)
    advisory_lock("did_count", tenant.schema_name)
    check_limit(tenant, current=Did.objects.count(), adding=1, limit=tenant.max_dids, noun="DIDs", field="number")
    did = Did(number=claim_number(tenant, number))
    fields.setdefault("dest", {"type": "hangup"})
    _apply(did, tenant, fields)
    clean(did)
    save(did)
    record_created(actor=actor, tenant=tenant, instance=did, prefix=PREFIX, payload=did_payload(did))
    return did


@tenant_service
def did_update(*, actor, tenant, instance: Did, **fields: Any) -> Did:
    check_fields(fields, DID_FIELDS | {"number"})
    before = snapshot(instance)
    if "number" in fields:
        number = fields.pop("number")
        if normalize_e164(number, region=tenant.default_region) != instance.number:
            instance.number = claim_number(tenant, number, instance=instance)
    _apply(instance, tenant, fields)
    clean(instance)
    save(instance)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=did_payload(instance))
    return instance


@tenant_service
def did_delete(*, actor, tenant, instance: Did) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=did_payload(instance))
