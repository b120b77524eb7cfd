"""Call blocking: block lists of caller numbers (E.164) and Asterisk patterns, checked on inbound
calls to every DID of the tenant or to the DIDs a list names; optionally refusing anonymous callers."""
from __future__ import annotations

from typing import Any

from apps.audit.services import snapshot
from apps.telephony.models import BlockList, BlockListEntry, Did
from apps.telephony.services.common import (
    check_fields, clean, delete, record_created, record_updated, resolve_ids, save, tenant_service, unique_name,
)
from apps.telephony.validators import normalize_e164, validate_dial_pattern, validate_text
from thirdlane.api.errors import Conflict, Invalid

PREFIX = "config.block_list"
FIELDS = {"name", "all_dids", "dids", "block_anonymous", "action", "enabled", "entries"}
MAX_ENTRIES = 5000


def block_list_payload(bl: BlockList) -> dict[str, Any]:
    return {"id": bl.pk, "name": bl.name, "all_dids": bl.all_dids, "dids": sorted(d.pk for d in bl.dids.all()),
            "block_anonymous": bl.block_anonymous, "action": bl.action, "enabled": bl.enabled,
            "entries": [{"kind": e.kind, "value": e.value, "description": e.description} for e in bl.entries.all()]}


def _entries(tenant, raw: list[dict]) -> list[BlockListEntry]:
    if len(raw) > MAX_ENTRIES:
        raise Invalid(f"At most {MAX_ENTRIES} entries per list.", field="entries")
    out, seen = [], {}
    for i, row in enumerate(raw):
        if not isinstance(row, dict):
            raise Invalid("An entry is an object.", field=f"entries[{i}]")
        unknown = set(row) - {"kind", "value", "description"}
        if unknown:
            raise Invalid(f"Unknown entry fields: {', '.join(sorted(unknown))}.", field=f"entries[{i}]")
        kind = row.get("kind") or BlockListEntry.Kind.NUMBER
        value = str(row.get("value") or "")
        if kind == BlockListEntry.Kind.NUMBER:
            value = normalize_e164(value, region=tenant.default_region, field=f"entries[{i}].value")
        elif kind == BlockListEntry.Kind.PATTERN:
            value = validate_dial_pattern(value, field=f"entries[{i}].value")
        else:
            raise Invalid("kind is number or pattern.", field=f"entries[{i}].kind")
        if value in seen:
            raise Conflict(f"{value} is also entries[{seen[value]}].", code="duplicate", field=f"entries[{i}].value")
        seen[value] = i
        entry = BlockListEntry(kind=kind, value=value,
                               description=validate_text(row.get("description") or "", field=f"entries[{i}].description"))
        clean(entry, prefix=f"entries[{i}]", exclude=["block_list"])
        out.append(entry)
    return out


def _apply(bl: BlockList, tenant, fields: dict[str, Any]):
    entries = fields.pop("entries", None)
    dids = fields.pop("dids", None)
    for name, value in fields.items():
        if name == "name":
            value = validate_text(value, field="name")
            unique_name(BlockList, value, bl)
        setattr(bl, name, value)
    if dids is not None:
        dids = list(resolve_ids(Did, list(dids), field="dids").values())
    return (_entries(tenant, entries) if entries is not None else None), dids


def _set_rows(bl: BlockList, entries, dids) -> None:
    if entries is not None:
        bl.entries.all().delete()
        for entry in entries:
            entry.block_list = bl
        BlockListEntry.objects.bulk_create(entries)
    if dids is not None:
        bl.dids.set(dids)
    if hasattr(bl, "_prefetched_objects_cache"):
        bl._prefetched_objects_cache.clear()


@tenant_service
def block_list_create(*, actor, tenant, name: str, **fields: Any) -> BlockList:
    check_fields(fields, FIELDS)
    bl = BlockList()
    entries, dids = _apply(bl, tenant, {"name": name, **fields})
    clean(bl)
    save(bl, field="name")
    _set_rows(bl, entries or [], dids or [])
    record_created(actor=actor, tenant=tenant, instance=bl, prefix=PREFIX, payload=block_list_payload(bl))
    return bl


@tenant_service
def block_list_update(*, actor, tenant, instance: BlockList, **fields: Any) -> BlockList:
    check_fields(fields, FIELDS)
    before = snapshot(instance)
    entries, dids = _apply(instance, tenant, fields)
    clean(instance)
    save(instance, field="name")
    _set_rows(instance, entries, dids)
    record_updated(actor=actor, tenant=tenant, instance=instance, before=before, prefix=PREFIX,
                   payload=block_list_payload(instance))
    return instance


@tenant_service
def block_list_delete(*, actor, tenant, instance: BlockList) -> None:
    delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=block_list_payload(instance))
