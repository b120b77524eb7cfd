"""Writing a run's file: what a dataset selects for a run, as CSV or JSON lines.

CDRs: the rows written after the schedule's cursor, up to the high-water mark fixed when the run
was created, of every tenant in scope, in ONE ``COPY`` statement over the tenant schemas (tenant,
then id order), streamed to the file while its SHA-256 is computed. Statistics datasets (agent
statistics, call counters) export the whole intervals since the last successful run's period.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from typing import Callable

from django.db import connection, transaction

from apps.billing import streaming
from apps.billing.models import Cdr
from apps.tenants.crossschema import run_over_schemas, table
from thirdlane.csvsafe import neutralise


@dataclass
class Written:
    rows: int
    bytes: int
    sha256: str


def cdr_bounds(tenants: list, cursors: dict) -> tuple[dict, int]:
    """``({tenant_id: high}, rows)``: each tenant's highest CDR id now and the number of CDRs
    after its cursor up to it, in one statement over the schemas."""
    by_schema = {t.schema_name: t for t in tenants}

    def build(schemas: list[str]):
        parts, params = [], []
        for schema in schemas:
            t = table(Cdr, schema)
            parts.append(f"SELECT %s, (SELECT max(id) FROM {t}), (SELECT count(*) FROM {t} WHERE id > %s)")
            params += [schema, int(cursors.get(str(by_schema[schema].pk), 0))]
        return " UNION ALL ".join(parts), params

    rows = run_over_schemas(build, list(by_schema), [Cdr._meta.db_table])
    highs, total = {}, 0
    for schema, high, count in rows:
        tenant = by_schema[schema]
        start = int(cursors.get(str(tenant.pk), 0))
        highs[str(tenant.pk)] = max(start, high or 0)
        total += count
    for tenant in tenants:  # a schema without the table (not migrated yet) keeps its cursor
        highs.setdefault(str(tenant.pk), int(cursors.get(str(tenant.pk), 0)))
    return highs, total


def _cdr_statement(tenants: list, start: dict, end: dict, fmt: str) -> tuple[str, list]:
    parts, params = [], []
    for tenant in tenants:
        low, high = int(start.get(str(tenant.pk), 0)), int(end.get(str(tenant.pk), 0))
        if high <= low:
            continue
        column = "%s::text"
        body = streaming.select_list(tenant_column=column) if fmt == "csv" else \
            streaming.json_object(tenant_column=column)
        parts.append(f"(SELECT {body} FROM {table(Cdr, tenant.schema_name)} WHERE id > %s AND id <= %s ORDER BY id)")
        params += [tenant.slug, low, high]
    if not parts:
        empty = streaming.select_list(tenant_column="''::text")
        parts.append(f"(SELECT {empty} FROM {table(Cdr, tenants[0].schema_name)} WHERE false)" if tenants else
                     "(SELECT 1 WHERE false)")
    return streaming.copy_statement(" UNION ALL ".join(parts), fmt), params


def write_cdrs(path: str, tenants: list, start: dict, end: dict, fmt: str, total: int,
               progress: Callable[[int], None]) -> Written:
    """COPY the selected CDRs into ``path``; ``progress(percent)`` now and then."""
    statement, params = _cdr_statement(tenants, start, end, fmt)
    digest, size, lines, reported = hashlib.sha256(), 0, 0, -1
    with open(path, "wb") as out, transaction.atomic(), connection.cursor() as cursor:
        # The branches' order is the file's order: no parallel append that could interleave them.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        with cursor.cursor.copy(statement, params) as copy:
            for chunk in copy:
                data = bytes(chunk)
                out.write(data)
                digest.update(data)
                size += len(data)
                lines += data.count(b"\n")
                percent = min(99, lines * 100 // max(total, 1))
                if percent >= reported + 5:
                    progress(percent)
                    reported = percent
        out.flush()
        os.fsync(out.fileno())
    return Written(rows=total, bytes=size, sha256=digest.hexdigest())


def write_rows(path: str, rows: list[dict], fmt: str) -> Written:
    """Statistics rows (flat dicts) as CSV (formula cells neutralised) or JSON lines."""
    buffer = io.StringIO()
    if fmt == "csv":
        columns = list(rows[0]) if rows else ["tenant"]
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([neutralise(_plain(row.get(c))) for c in columns])
    else:
        for row in rows:
            buffer.write(json.dumps(row, default=str, separators=(",", ":")) + "\n")
    data = buffer.getvalue().encode()
    with open(path, "wb") as out:
        out.write(data)
    return Written(rows=len(rows), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _plain(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(",", ":"))
    return "" if value is None else value
