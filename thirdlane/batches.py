"""Deleting many rows without one long transaction (retention purges)."""
from __future__ import annotations

from django.db import connection, transaction


def delete_in_batches(sql: str, params: list) -> tuple[int, int]:
    """Run ``sql`` (a DELETE of at most one batch of rows, oldest first) in its own short
    transaction until it deletes nothing: no long lock, no huge transaction, and a purge can stop
    and resume anywhere. Returns (rows deleted, statements run)."""
    total = batches = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            deleted = cursor.rowcount
        batches += 1
        total += deleted
        if deleted == 0:
            return total, batches
