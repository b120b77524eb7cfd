"""CDRs as CSV or JSON lines, streamed by PostgreSQL's COPY in constant memory.

PostgreSQL formats every row (``COPY (SELECT ...) TO STDOUT``) and the chunks go to the client as
they come, so a million rows cost the same memory as ten. Text a caller can choose (caller ID
numbers, names) is neutralised for spreadsheets in SQL by the same rule as ``thirdlane.csvsafe``.
JSON lines are one ``json_build_object`` per row, copied in CSV mode with a delimiter and quote
that JSON text never contains raw, so each line is exactly the JSON PostgreSQL made.
"""
from __future__ import annotations

from typing import Iterator

from django.db import connection

from apps.tenants.crossschema import qn
from thirdlane.csvsafe import sql_neutralise

# (column in the file, SQL expression over the cdr table), in file order.
_UTC = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
COLUMNS: list[tuple[str, str]] = [
    ("id", "id"),
    ("started_at", _UTC.format("started_at")),
    ("answered_at", _UTC.format("answered_at")),
    ("ended_at", _UTC.format("ended_at")),
    ("duration", "duration"),
    ("billsec", "billsec"),
    ("direction", "direction"),
    ("source", "source"),
    ("destination", "destination"),
    ("did", "did"),
    ("trunk", "trunk"),
    ("extension", "extension"),
    ("disposition", "disposition"),
    ("hangup_cause", "hangup_cause"),
    ("hangup_cause_text", "hangup_cause_text"),
    ("account_code", "account_code"),
    ("linkedid", "linkedid"),
]
_TEXT = {"source", "destination", "did", "trunk", "extension", "hangup_cause_text", "account_code", "linkedid"}


def select_list(*, tenant_column: str | None = None, csv: bool = True) -> str:
    parts = []
    if tenant_column is not None:
        parts.append(f"{tenant_column} AS tenant")
    for name, expression in COLUMNS:
        if csv and name in _TEXT:
            # An empty text is an empty cell (PostgreSQL's CSV writes "" for it, to tell it from NULL).
            expression = f"NULLIF({sql_neutralise(expression)}, '')"
        parts.append(f"{expression} AS {qn(name)}")
    return ", ".join(parts)


def json_object(*, tenant_column: str | None = None) -> str:
    pairs = [] if tenant_column is None else [f"'tenant', {tenant_column}"]
    pairs += [f"'{name}', {expression}" for name, expression in COLUMNS]
    return f"json_build_object({', '.join(pairs)})::text"


def copy_statement(select_sql: str, fmt: str) -> str:
    if fmt == "csv":
        return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


def stream(statement: str, params: list, *, tenant=None) -> Iterator[bytes]:
    """Run ``statement`` (a COPY ... TO STDOUT) and yield its chunks. Runs while the response is
    sent, after the view returned: it sets the tenant schema itself and resets it at the end."""
    if tenant is not None:
        connection.set_tenant(tenant)
    try:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(statement, params) as copy:
                for chunk in copy:
                    yield bytes(chunk)
    finally:
        connection.set_schema_to_public()
