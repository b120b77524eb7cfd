"""Reads that are more than a filter: list querysets, number plan look-ups, "what uses X", and the
platform-wide DID look-up across tenant schemas."""
from __future__ import annotations

from django.db import connection
from django.db.models import Q

from apps.telephony.destinations import DestType
from apps.telephony.models import (
    Agent, BlockList, Conference, Did, Extension, FeatureCode, IvrOption, Ivr, OutboundRoute, OutboundRouteTrunk,
    PagingGroup, PagingMember, ParkingLot, Queue, QueueMember, RingGroup, RingGroupMember, Schedule, TimeCondition,
    Trunk,
)


# --- list querysets (constant query count: related rows are joined or prefetched) ------------
def extension_list():
    # The secrets are write-only in the API: a list never needs to decrypt them (two Fernet
    # decryptions per row were a fifth of a 100-row list's time).
    return Extension.objects.select_related("location").defer("sip_secret", "voicemail_pin")


def did_list():
    return Did.objects.all()


def trunk_list():
    return Trunk.objects.all()


def outbound_route_list():
    return OutboundRoute.objects.prefetch_related("route_trunks")


def queue_list():
    return Queue.objects.prefetch_related("members")


def agent_list():
    return Agent.objects.select_related("extension").prefetch_related("queue_memberships")


def ivr_list():
    return Ivr.objects.prefetch_related("options")


def schedule_list():
    return Schedule.objects.prefetch_related("weekly_ranges", "holidays")


def time_condition_list():
    return TimeCondition.objects.select_related("schedule")


def ring_group_list():
    return RingGroup.objects.prefetch_related("members")


def block_list_list():
    return BlockList.objects.prefetch_related("entries", "dids")


def feature_code_list():
    return FeatureCode.objects.all()


def conference_list():
    return Conference.objects.defer("pin", "admin_pin")


def parking_lot_list():
    return ParkingLot.objects.all()


def paging_group_list():
    return PagingGroup.objects.prefetch_related("members")


# --- the internal number plan: extensions, queues and IVRs share one space per tenant ---------
NUMBERED = ((Extension, "extension"), (Queue, "queue"), (Ivr, "IVR"), (RingGroup, "ring group"),
            (Conference, "conference"), (PagingGroup, "paging group"), (ParkingLot, "parking lot"))


def number_owner(number: str, *, exclude: object | None = None) -> str | None:
    """What already uses ``number`` in the current tenant ("extension 1001 Alice"), or None."""
    for model, label in NUMBERED:
        qs = model.objects.filter(number=number)
        if exclude is not None and isinstance(exclude, model):
            qs = qs.exclude(pk=exclude.pk)
        obj = qs.first()
        if obj is not None:
            return f"{label} {obj}"
    for lot in ParkingLot.objects.all():
        if lot != exclude and in_slots(lot, number):
            return f"parking lot {lot} (slots {lot.slot_start}-{lot.slot_end})"
    return None


def in_slots(lot, number: str) -> bool:
    """Whether ``number`` is one of a parking lot's slots (same length, inside the range)."""
    start, end = lot.slot_start, lot.slot_end
    return (number.isdigit() and len(number) == len(start) == len(end)
            and int(start) <= int(number) <= int(end))


def numbers_taken(numbers: list[str]) -> dict[str, str]:
    """Of ``numbers``, those already used, with what uses them; one query per numbered table."""
    taken: dict[str, str] = {}
    for model, label in NUMBERED:
        for number in model.objects.filter(number__in=numbers).values_list("number", flat=True):
            taken.setdefault(number, label)
    lots = list(ParkingLot.objects.all())
    for number in numbers if lots else []:
        if any(in_slots(lot, number) for lot in lots):
            taken.setdefault(number, "parking slot")
    return taken


# --- "what uses X" ---------------------------------------------------------------------------
DEST_HOLDERS = (
    (Did, "dest", lambda o: f"DID {o.number}"),
    (IvrOption, "dest", lambda o: f"IVR {o.ivr} option {o.digit}"),
    (Ivr, "invalid", lambda o: f"IVR {o} (invalid input)"),
    (Ivr, "timeout_dest", lambda o: f"IVR {o} (timeout)"),
    (TimeCondition, "match", lambda o: f"time condition {o} (open)"),
    (TimeCondition, "no_match", lambda o: f"time condition {o} (closed)"),
    (Queue, "fallback", lambda o: f"queue {o} (fallback)"),
    (Trunk, "inbound", lambda o: f"trunk {o} (contact-user calls)"),
)
DEST_TYPE_OF = {Extension: (DestType.EXTENSION, DestType.VOICEMAIL), Queue: (DestType.QUEUE,),
                Ivr: (DestType.IVR,), TimeCondition: (DestType.TIME_CONDITION,), RingGroup: (DestType.RING_GROUP,),
                Conference: (DestType.CONFERENCE,), PagingGroup: (DestType.PAGING_GROUP,)}


def usages(obj) -> list[str]:
    """Human-readable names of everything that refers to ``obj`` (for 409 ``in_use``)."""
    users: list[str] = []
    types = DEST_TYPE_OF.get(type(obj))
    if types:
        for model, prefix, label in DEST_HOLDERS:
            qs = model.objects.filter(**{f"{prefix}_type__in": types, f"{prefix}_id": obj.pk})
            if model is IvrOption:
                qs = qs.select_related("ivr")
                if isinstance(obj, Ivr):
                    qs = qs.exclude(ivr=obj)  # its own options (e.g. 0 = repeat the menu) go with it
            if model is type(obj):
                qs = qs.exclude(pk=obj.pk)  # a time condition pointing at itself is refused anyway
            users += [label(o) for o in qs[:20]]
    if isinstance(obj, Extension):
        users += [f"queue {m.queue}" for m in QueueMember.objects.filter(extension=obj).select_related("queue")]
        users += [f"agent {a}" for a in Agent.objects.filter(extension=obj)]
        users += [f"ring group {m.ring_group}" for m in
                  RingGroupMember.objects.filter(extension=obj).select_related("ring_group")]
        users += [f"paging group {m.group}" for m in PagingMember.objects.filter(extension=obj).select_related("group")]
        forwards = Extension.objects.filter(
            Q(forward_always=obj.number) | Q(forward_busy=obj.number) | Q(forward_no_answer=obj.number)
            | Q(followme_numbers__contains=[obj.number])
        ).exclude(pk=obj.pk)
        users += [f"extension {e} (call forwarding)" for e in forwards[:20]]
    elif isinstance(obj, Agent):
        users += [f"queue {m.queue}" for m in QueueMember.objects.filter(agent=obj).select_related("queue")]
    elif isinstance(obj, Trunk):
        users += [f"outbound route {rt.route}" for rt in
                  OutboundRouteTrunk.objects.filter(trunk=obj).select_related("route")]
    elif isinstance(obj, Schedule):
        users += [f"time condition {tc}" for tc in TimeCondition.objects.filter(schedule=obj)]
    return sorted(set(users))


# --- DIDs across the platform ----------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def did_owner(number: str, *, exclude_schema: str | None = None, exclude_pk: int | None = None) -> str | None:
    """The slug of the tenant that holds DID ``number`` anywhere on the platform, or None.

    One ``UNION ALL`` over every tenant schema's DID table (each branch an index look-up). The
    caller holds the number's advisory lock (services.dids.claim_number), so no other transaction can
    insert the same number between this look-up and the caller's commit.
    """
    tables = _tenant_tables("telephony_did")
    if not tables:
        return None
    with connection.cursor() as cursor:
        branches, params = [], []
        for slug, schema in tables:
            sql = f"SELECT %s::text AS slug FROM {_quote(schema)}.telephony_did WHERE number = %s"
            params += [slug, number]
            if schema == exclude_schema and exclude_pk is not None:
                sql += " AND id <> %s"
                params.append(exclude_pk)
            branches.append(sql)
        if not branches:
            return None
        cursor.execute("SELECT slug FROM (" + " UNION ALL ".join(branches) + ") AS owners LIMIT 1", params)
        row = cursor.fetchone()
    return row[0] if row else None


def _tenant_tables(table: str) -> list[tuple[str, str]]:
    """(slug, schema) of every tenant whose schema has ``table``."""
    from apps.tenants.models import Tenant

    tenants = list(Tenant.objects.values_list("slug", "schema_name"))
    if not tenants:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relname = %s AND c.relkind = 'r' AND n.nspname = ANY(%s)",
                       [table, [s for _, s in tenants]])
        present = {row[0] for row in cursor.fetchall()}
    return [(slug, schema) for slug, schema in tenants if schema in present]


def location_users(location_id: int) -> dict[str, int]:
    """Extensions placed at a (public) location, per tenant slug: ``{"acme": 12}``.

    ``Extension.location`` references ``pbx_location`` from every tenant schema; the foreign key
    is checked at commit, so a location must not be deleted while this is non-empty.
    """
    tables = _tenant_tables("telephony_extension")
    if not tables:
        return {}
    branches, params = [], []
    for slug, schema in tables:
        branches.append(f"SELECT %s::text AS slug, count(*) AS n FROM {_quote(schema)}.telephony_extension "
                        "WHERE location_id = %s")
        params += [slug, location_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT slug, n FROM (" + " UNION ALL ".join(branches) + ") AS users WHERE n > 0", params)
        return {slug: n for slug, n in cursor.fetchall()}
