"""Usage figures read from CDRs."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from apps.billing.models import Cdr
from apps.tenants.crossschema import run_over_schemas, table


def usage(tenants: Iterable, since: datetime) -> dict[int, dict]:
    """Calls (CDRs) and billed minutes per tenant since ``since``, in one statement over the schemas:
    ``{tenant_id: {"calls": n, "minutes": m}}`` (minutes rounded up per CDR, as carriers bill)."""
    tenants = list(tenants)
    out = {t.pk: {"calls": 0, "minutes": 0} for t in tenants}
    if not tenants:
        return out
    by_schema = {t.schema_name: t.pk for t in tenants}

    def build(schemas: list[str]):
        parts, params = [], []
        for schema in schemas:
            parts.append(f"SELECT %s::bigint, count(*), coalesce(sum(ceil(billsec / 60.0)), 0)::bigint "
                         f"FROM {table(Cdr, schema)} WHERE started_at >= %s")
            params += [by_schema[schema], since]
        return " UNION ALL ".join(parts), params

    for tenant_id, calls, minutes in run_over_schemas(build, list(by_schema), [Cdr._meta.db_table]):
        out[tenant_id] = {"calls": calls, "minutes": minutes}
    return out
