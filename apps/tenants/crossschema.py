"""One statement over many tenants' schemas.

Tenant data lives in one PostgreSQL schema per tenant. A read over several tenants at once (the
dashboard's extension counts, an organization's directory, the platform's call roll-up) is ONE
SQL statement: a ``UNION ALL`` of one small ``SELECT`` per schema with fully qualified table
names (``table``), so the number of queries stays the same whatever the number of tenants.
Schema names come from the tenant rows and are quoted anyway.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable

from django.db import ProgrammingError, connection, transaction

logger = logging.getLogger(__name__)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model, schema: str) -> str:
    return f"{qn(schema)}.{qn(model._meta.db_table)}"


def _missing_table(exc: Exception) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "42P01"  # undefined_table


def _schemas_with(schemas: list[str], tables: list[str]) -> list[str]:
    """The schemas among ``schemas`` that have every one of ``tables`` (one catalog query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.name FROM unnest(%s::text[]) s(name) WHERE NOT EXISTS ("
            " SELECT 1 FROM unnest(%s::text[]) t(name)"
            " WHERE to_regclass(quote_ident(s.name) || '.' || quote_ident(t.name)) IS NULL)",
            [schemas, tables])
        present = {row[0] for row in cursor.fetchall()}
    return [s for s in schemas if s in present]


def run_over_schemas(build: Callable[[list[str]], tuple[str, Any]], schemas: list[str],
                      tables: list[str]) -> list[tuple]:
    """Run the statement ``build(schemas)`` makes, once.

    A tenant schema that lacks one of ``tables`` (a tenant not migrated yet, during a deploy)
    would fail the whole statement: then, and only then, find the schemas that have the tables
    and run once more over those.
    """
    if not schemas:
        return []
    sql, params = build(schemas)
    # Inside a transaction a failed statement would abort it: guard with a savepoint there only.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except ProgrammingError as exc:
        if not _missing_table(exc):
            raise
        logger.warning("a tenant schema lacks a table of the statement; answering without it")
    schemas = _schemas_with(schemas, tables)
    if not schemas:
        return []
    sql, params = build(schemas)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
