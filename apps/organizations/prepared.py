"""Server-side prepared statements for the directory's one big statement.

The directory statement over 50 member schemas is ~50 KB of SQL with a hundred ``UNION ALL``
branches: PostgreSQL spends most of its time parsing, analysing and planning it, not running
it (measured: 17 ms per search unprepared, 5 ms as ``EXECUTE`` of a prepared statement). The
text only changes when the organization's members change (site codes, slugs and names are
parameters), so each connection prepares it once and then only executes it.

Rules, because prepared statements live in the database session and ignore transactions:
- A statement's name is a hash of its text *and the member tenants' ids*. Schema names never
  change for a tenant, and a re-created tenant gets a new id, so a name never refers to another
  tenant's tables. (Tests roll back schema renames; ids, from a sequence, are never reused.)
- Each connection keeps at most ``PER_CONNECTION`` statements (least recently used are
  ``DEALLOCATE``d).
- Any database error while preparing or executing (the statement vanished because a pooler
  reset the session, a member table is missing, ...) forgets the statement and returns ``None``:
  the caller then runs the plain statement, which has its own recovery.
- ``ORGANIZATIONS_DIRECTORY_PREPARED = False`` turns it off, e.g. behind PgBouncer in
  transaction mode, where a session's prepared statements are not there on the next transaction.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import weakref
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

logger = logging.getLogger(__name__)

PER_CONNECTION = 16
_PARAM = re.compile(r"%\((\w+)\)s")
# raw DB-API connection -> names prepared on it, least recently used first
_prepared: "weakref.WeakKeyDictionary[Any, OrderedDict[str, None]]" = weakref.WeakKeyDictionary()


def enabled() -> bool:
    return getattr(settings, "ORGANIZATIONS_DIRECTORY_PREPARED", True)


def to_positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``%(name)s`` placeholders to ``$1..$n`` (in order of first use) and the values in that order."""
    order: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _PARAM.sub(number, sql), [params[name] for name in order]


def _cache() -> "OrderedDict[str, None]":
    connection.ensure_connection()
    raw = connection.connection
    cache = _prepared.get(raw)
    if cache is None:
        cache = _prepared[raw] = OrderedDict()
    return cache


def run(sql: str, params: dict[str, Any], *, identity: str) -> list[tuple] | None:
    """Rows of ``sql`` (Django-style named params) through a prepared statement, or ``None`` if
    that failed and the caller should run it plainly."""
    text, values = to_positional(sql, params)
    name = "org_dir_" + hashlib.sha1(f"{identity}\n{text}".encode()).hexdigest()[:20]
    cache = _cache()
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            if name in cache:
                cache.move_to_end(name)
            else:
                cursor.execute(f"PREPARE {name} AS {text}")
                cache[name] = None
                while len(cache) > PER_CONNECTION:
                    old, _ = cache.popitem(last=False)
                    cursor.execute(f"DEALLOCATE {old}")
            placeholders = ", ".join(["%s"] * len(values))
            cursor.execute(f"EXECUTE {name}({placeholders})", values)
            return cursor.fetchall()
    except DatabaseError as exc:
        cache.pop(name, None)
        logger.info("prepared directory statement failed (%s); running it unprepared",
                    type(exc.__cause__ or exc).__name__)
        _deallocate_quietly(name)
        return None


def _deallocate_quietly(name: str) -> None:
    if connection.needs_rollback or (connection.in_atomic_block and connection.connection is None):
        return
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with contextlib.suppress(DatabaseError), guard, connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {name}")
