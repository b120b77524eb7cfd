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
- Memory: PostgreSQL keeps a prepared statement's query tree and plan in the session, about
  85 KB per ``UNION ALL`` branch (measured: 12.8 MB for 50 members x 3 entry types, on top of
  the catalog caches the plain statement needs anyway). Each connection keeps statements up
  to ``ORGANIZATIONS_DIRECTORY_PREPARED_BRANCHES`` branches in total (default 400, ~35 MB),
  ``DEALLOCATE``-ing the least recently used; a statement larger than that runs unprepared.
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

_PARAM = re.compile(r"%\((\w+)\)s")
# raw DB-API connection -> {statement name: its branches}, least recently used first
_prepared: "weakref.WeakKeyDictionary[Any, OrderedDict[str, int]]" = weakref.WeakKeyDictionary()


def enabled() -> bool:
    return getattr(settings, "ORGANIZATIONS_DIRECTORY_PREPARED", True)


def budget() -> int:
    return getattr(settings, "ORGANIZATIONS_DIRECTORY_PREPARED_BRANCHES", 400)


def to_positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """``%(name)s`` placeholders to ``$1..$n`` (in order of first use) and the values in that order."""
    order: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return _PARAM.sub(number, sql), [params[name] for name in order]


def _cache() -> "OrderedDict[str, int]":
    connection.ensure_connection()
    raw = connection.connection
    cache = _prepared.get(raw)
    if cache is None:
        cache = _prepared[raw] = OrderedDict()
    return cache


def run(sql: str, params: dict[str, Any], *, identity: str) -> list[tuple] | None:
    """Rows of ``sql`` (Django-style named params) through a prepared statement, or ``None``
    when it is over the budget or failed: the caller then runs it plainly."""
    text, values = to_positional(sql, params)
    branches = text.count(" UNION ALL ") + 1
    if branches > budget():
        return None
    name = "org_dir_" + hashlib.sha1(f"{identity}\n{text}".encode()).hexdigest()[:20]
    cache = _cache()
    if name not in cache:
        while cache and sum(cache.values()) + branches > budget():
            old, _ = cache.popitem(last=False)
            _deallocate_quietly(old)
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            if name in cache:
                cache.move_to_end(name)
            else:
                cursor.execute(f"PREPARE {name} AS {text}")
                cache[name] = branches
            placeholders = ", ".join(["%s"] * len(values))
            cursor.execute(f"EXECUTE {name}({placeholders})", values)
            return cursor.fetchall()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "26000":
            cache.clear()  # the session lost its statements (DEALLOCATE ALL, DISCARD ALL): forget them all
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
