"""Load the telephony objects of many tenants with a fixed number of queries.

Each tenant's rows live in its own schema, so the obvious loader (switch schema, query, repeat)
costs ``tables x tenants`` round trips. This one builds, per table, one ``UNION ALL`` statement
over the tenants' schemas (``SELECT <tenant id>, cols FROM "t_acme".tbl UNION ALL ...``), so a
server's whole configuration loads in ``tables x ceil(tenants / chunk)`` queries, whatever the
number of extensions, queues or routes. Rows come back as plain dicts keyed by attribute name
(``location_id``), with encrypted and JSON columns converted by their model field, so the
renderers never touch the ORM.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from django.db import connection

from thirdlane.crypto import EncryptedTextField, decrypt

from apps.hooks import models as hooks_models
from apps.sounds.models import SoundFile
from apps.telephony import models as tm

# Tables the renderers read, in load order. created_at/updated_at are never needed.
TABLES: tuple[tuple[str, type], ...] = (
    ("extensions", tm.Extension),
    ("dids", tm.Did),
    ("trunks", tm.Trunk),
    ("routes", tm.OutboundRoute),
    ("route_trunks", tm.OutboundRouteTrunk),
    ("queues", tm.Queue),
    ("members", tm.QueueMember),
    ("agents", tm.Agent),
    ("ivrs", tm.Ivr),
    ("ivr_options", tm.IvrOption),
    ("schedules", tm.Schedule),
    ("weekly_ranges", tm.WeeklyRange),
    ("holidays", tm.HolidayRange),
    ("time_conditions", tm.TimeCondition),
    # PBX features (issue 12)
    ("ring_groups", tm.RingGroup),
    ("ring_group_members", tm.RingGroupMember),
    ("block_lists", tm.BlockList),
    ("block_list_entries", tm.BlockListEntry),
    ("block_list_dids", tm.BlockList.dids.through),
    ("feature_codes", tm.FeatureCode),
    ("conferences", tm.Conference),
    ("parking_lots", tm.ParkingLot),
    ("paging_groups", tm.PagingGroup),
    ("paging_members", tm.PagingMember),
    ("custom_dialplans", hooks_models.CustomDialplan),  # integrator hooks (apps.hooks)
    ("routing_hooks", hooks_models.RoutingHook),
    ("sounds", SoundFile),  # prompts and music on hold (apps.sounds)
)
SKIP_FIELDS = {"created_at", "updated_at"}
# Schemas per statement. PostgreSQL plans a UNION ALL in more than linear time in its branches:
# with 28 tables and 200 tenants, chunks of 50 loaded in 0.42 s where one chunk of 200 took 0.67 s
# (bench/render_config.py's database, warm). The count stays tables x ceil(tenants / chunk),
# whatever the number of extensions.
DEFAULT_CHUNK = 50


@dataclass
class TenantInfo:
    """The public-schema facts about a tenant the renderers need."""

    id: int
    slug: str
    name: str
    schema_name: str
    timezone: str = "UTC"
    default_region: str = "US"


@dataclass
class TenantData:
    tenant: TenantInfo
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> list[dict[str, Any]]:
        try:
            return self.__dict__["rows"][name]
        except KeyError:
            raise AttributeError(name) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Table:
    """Column list and converters of one model, computed once."""

    def __init__(self, model: type):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if f.name not in SKIP_FIELDS]
        self.names = [f.attname for f in self.fields]
        self.select = ", ".join(_quote(f.column) for f in self.fields)
        self.table = _quote(model._meta.db_table)
        self.converters = [(i, _converter(f)) for i, f in enumerate(self.fields) if hasattr(f, "from_db_value")]

    def rows(self, raw: Iterable[tuple]) -> Iterable[tuple[int, dict[str, Any]]]:
        names, converters = self.names, self.converters
        for record in raw:
            values = list(record[1:])
            for index, convert in converters:
                if values[index] is not None:
                    values[index] = convert(values[index])
            yield record[0], dict(zip(names, values))


def _converter(f):
    if isinstance(f, EncryptedTextField):
        return lambda value: _decrypted(value) if value else value
    return lambda value: f.from_db_value(value, None, connection)


@lru_cache(maxsize=131072)
def _decrypted(token: str) -> str:
    """Secrets decrypted once per process: every push renders every secret of the server again,
    and Fernet costs ~30 us a value, two thirds of loading 10,000 extensions. Keyed by the
    ciphertext (random per write), so a changed secret is a new entry, never a stale one."""
    return decrypt(token)


def load(tenants: list[TenantInfo], *, chunk: int = DEFAULT_CHUNK,
         tables: tuple[tuple[str, type], ...] = TABLES) -> list[TenantData]:
    """Every table of every tenant: ``len(tables) * ceil(len(tenants) / chunk)`` queries.

    ``chunk=1`` is the per-tenant loader (the same statements, one schema each), kept for
    the benchmark's comparison.
    """
    data = {t.id: TenantData(t, {name: [] for name, _ in tables}) for t in tenants}
    if not tenants:
        return []
    specs = [(name, _Table(model)) for name, model in tables]
    with connection.cursor() as cursor:
        for start in range(0, len(tenants), chunk):
            group = tenants[start:start + chunk]
            for name, spec in specs:
                sql = " UNION ALL ".join(
                    f"SELECT {int(t.id)}::bigint AS tenant_id, {spec.select} FROM {_quote(t.schema_name)}.{spec.table}"
                    for t in group)
                cursor.execute(sql)
                target = data
                for tenant_id, row in spec.rows(cursor.fetchall()):
                    target[tenant_id].rows[name].append(row)
    return [data[t.id] for t in tenants]


def tenants_of_server(server_id: int) -> list[TenantInfo]:
    """The active tenants whose primary server is ``server_id``, ordered by slug (one query)."""
    from apps.tenants.models import Tenant

    rows = (Tenant.objects.filter(primary_server_id=server_id, status=Tenant.Status.ACTIVE)
            .order_by("slug").values_list("id", "slug", "name", "schema_name", "timezone", "default_region"))
    return [TenantInfo(*row) for row in rows]
