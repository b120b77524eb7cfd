"""Trunks (tenant-owned) and outbound routes with their ordered trunks."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import Did, OutboundRoute, OutboundRouteTrunk, Trunk
from apps.telephony.services.common import (
    advisory_lock, check_fields, check_limit, clean, delete, record_created, record_updated, resolve_ids, resolve_one,
    save, tenant_service, unique_name,
)
from apps.telephony.validators import (
    validate_codecs, validate_destination, validate_dial_pattern, validate_host, validate_sip_user, validate_text,
)
from thirdlane.api.errors import DomainError, Invalid

TRUNK_PREFIX = "config.trunk"
ROUTE_PREFIX = "config.outbound_route"
TRUNK_FIELDS = {"auth_type", "host", "port", "transport", "username", "secret", "codecs", "max_channels",
                "outbound_caller_id", "enabled", "qualify_frequency", "inbound_did", "inbound"}
ROUTE_FIELDS = {"priority", "dial_patterns", "strip_digits", "prepend", "is_emergency", "emergency_numbers",
                "trunks", "enabled"}


def trunk_payload(trunk: Trunk) -> dict[str, Any]:
    return {"id": trunk.pk, "name": trunk.name, "auth_type": trunk.auth_type, "host": trunk.host, "port": trunk.port,
            "transport": trunk.transport, "username": trunk.username, "codecs": list(trunk.codecs),
            "max_channels": trunk.max_channels, "outbound_caller_id": trunk.outbound_caller_id,
            "qualify_frequency": trunk.qualify_frequency, "inbound_did": trunk.inbound_did_id,
            "inbound_destination": trunk.inbound.as_dict() if trunk.inbound.is_set else None,
            "enabled": trunk.enabled}


def _apply_trunk(trunk: Trunk, fields: dict[str, Any], tenant) -> None:
    for name, value in fields.items():
        if name == "inbound":
            trunk.inbound = validate_destination(tenant, value, field="inbound_destination", required=False)
            continue
        if name == "inbound_did":
            value = resolve_one(Did, value, field="inbound_did", required=False)
        if name == "codecs":
            value = validate_codecs(value)
        if name == "secret" and not value:
            continue  # an empty secret in an update keeps the stored one
        if name == "secret":
            value = validate_text(value, field="secret")
        elif name == "host":
            value = validate_host(value)
        elif name == "username":
            value = validate_sip_user(value)
        setattr(trunk, name, value)
    if trunk.auth_type == Trunk.Auth.REGISTRATION:
        missing = [f for f in ("username", "secret") if not getattr(trunk, f)]
        if missing:
            raise DomainError("A registration trunk needs a username and a secret.", code="missing_credentials",
                              errors={f: [{"code": "missing_credentials", "message": "Required for registration."}]
                                      for f in missing})


@tenant_service
def trunk_create(*, actor, tenant, name: str, **fields: Any) -> Trunk:
    check_fields(fields, TRUNK_FIELDS)
    advisory_lock("trunk_count", tenant.schema_name)
    check_limit(tenant, current=Trunk.objects.count(), adding=1, limit=tenant.max_trunks, noun="trunks", field="name")
    unique_name(Trunk, name)
    trunk = Trunk(name=name)
    _apply_trunk(trunk, fields, tenant)
    clean(trunk)
    save(trunk, field="name")
    record_created(actor=actor, tenant=tenant, instance=trunk, prefix=TRUNK_PREFIX, payload=trunk_payload(trunk))
    return trunk


@tenant_service
def trunk_update(*, actor, tenant, instance: Trunk, **fields: Any) -> Trunk:
    check_fields(fields, TRUNK_FIELDS | {"name"})
    before = snapshot(instance)
    if "name" in fields:
        unique_name(Trunk, fields["name"], instance)
    _apply_trunk(instance, fields, tenant)
    clean(instance)
    save(instance, field="name")
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=TRUNK_PREFIX,
                   payload=trunk_payload(instance))
    return instance


@tenant_service
def trunk_delete(*, actor, tenant, instance: Trunk) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=TRUNK_PREFIX, payload=trunk_payload(instance))


# --- outbound routes ---------------------------------------------------------------------------
def route_payload(route: OutboundRoute) -> dict[str, Any]:
    return {"id": route.pk, "name": route.name, "priority": route.priority, "dial_patterns": list(route.dial_patterns),
            "strip_digits": route.strip_digits, "prepend": route.prepend, "is_emergency": route.is_emergency,
            "emergency_numbers": list(route.emergency_numbers),
            "trunks": [rt.trunk_id for rt in route.route_trunks.all()], "enabled": route.enabled}


def _apply_route(route: OutboundRoute, fields: dict[str, Any]) -> list | None:
    trunks = fields.pop("trunks", None)
    for name, value in fields.items():
        if name == "dial_patterns":
            value = [validate_dial_pattern(p, field=f"dial_patterns[{i}]") for i, p in enumerate(value or [])]
        if name == "emergency_numbers":
            value = list(value or [])
            for i, n in enumerate(value):
                if not str(n).isdigit():
                    raise Invalid("Emergency numbers are digits.", field=f"emergency_numbers[{i}]")
        setattr(route, name, value)
    if route.is_emergency and not route.emergency_numbers:
        raise Invalid("An emergency route lists its emergency numbers (e.g. 911).", field="emergency_numbers")
    if not route.dial_patterns and not route.emergency_numbers:
        raise DomainError("A route needs at least one dial pattern.", code="invalid_pattern", field="dial_patterns")
    if len(set(route.dial_patterns)) != len(route.dial_patterns):
        raise DomainError("A dial pattern is listed twice.", code="invalid_pattern", field="dial_patterns")
    if trunks is not None:
        if not trunks:
            raise Invalid("A route needs at least one trunk.", field="trunks")
        ids = [t.pk if hasattr(t, "pk") else t for t in trunks]
        if len(set(map(str, ids))) != len(ids):
            raise Invalid("A trunk is listed twice.", field="trunks")
        found = resolve_ids(Trunk, list(trunks), field="trunks")
        return [found[int(pk)] for pk in ids]
    return None


def _set_trunks(route: OutboundRoute, trunks: list[Trunk]) -> None:
    route.route_trunks.all().delete()
    OutboundRouteTrunk.objects.bulk_create(
        [OutboundRouteTrunk(route=route, trunk=t, order=i) for i, t in enumerate(trunks)])
    if hasattr(route, "_prefetched_objects_cache"):
        route._prefetched_objects_cache.pop("route_trunks", None)


@tenant_service
def outbound_route_create(*, actor, tenant, name: str, trunks: list, **fields: Any) -> OutboundRoute:
    check_fields(fields, ROUTE_FIELDS)
    unique_name(OutboundRoute, name)
    route = OutboundRoute(name=name)
    ordered = _apply_route(route, {**fields, "trunks": trunks})
    clean(route)
    save(route, field="name")
    _set_trunks(route, ordered)
    record_created(actor=actor, tenant=tenant, instance=route, prefix=ROUTE_PREFIX, payload=route_payload(route))
    return route


@tenant_service
def outbound_route_update(*, actor, tenant, instance: OutboundRoute, **fields: Any) -> OutboundRoute:
    check_fields(fields, ROUTE_FIELDS | {"name"})
    before = snapshot(instance)
    if "name" in fields:
        unique_name(OutboundRoute, fields["name"], instance)
    ordered = _apply_route(instance, dict(fields))
    clean(instance)
    save(instance, field="name")
    if ordered is not None:
        _set_trunks(instance, ordered)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=ROUTE_PREFIX,
                   payload=route_payload(instance))
    return instance


@tenant_service
def outbound_route_delete(*, actor, tenant, instance: OutboundRoute) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=ROUTE_PREFIX, payload=route_payload(instance))
