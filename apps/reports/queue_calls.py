"""Queue call summaries: written once per ended queue call, read by agent statistics.

The call store (``apps.calls.store``) calls ``record`` with the calls that ended in a batch, in the
transaction that ends them; tests and data loaded outside the store call it the same way.
``rebuild`` (re)writes the summaries of a tenant's ended calls (the migration that added the table
backfills with it; ``manage.py rebuild_queue_calls`` runs it after a repair).
"""
from __future__ import annotations

from typing import Iterable

from django.db import connection

from apps.reports.sql import queue_call_rows, t

_COLUMNS = "call_id, joined_at, queue, agent, members, talk, hold, wrapup, wait"


def _insert(schema: str, where: str, params: dict) -> int:
    statement = (f"INSERT INTO {t(schema, 'reports_queuecall')} ({_COLUMNS}) "
                 f"SELECT {_COLUMNS} FROM ({queue_call_rows(schema, where)}) s ON CONFLICT (call_id) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def record(schema: str, call_ids: Iterable[int]) -> int:
    """Summarise the ended queue calls among ``call_ids`` (others are skipped; a call already
    summarised is kept: an ended call is final). Returns the rows written."""
    ids = list(call_ids)
    if not ids:
        return 0
    return _insert(schema, "c.status = 'ended' AND c.id = ANY(%(ids)s)", {"ids": ids})


def rebuild(schema: str) -> int:
    """Every ended queue call of the schema summarised again from its call record (calls purged
    by retention keep their summaries)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {t(schema, 'reports_queuecall')} WHERE call_id IN "
                       f"(SELECT id FROM {t(schema, 'calls_call')})")
    return _insert(schema, "c.status = 'ended'", {})
