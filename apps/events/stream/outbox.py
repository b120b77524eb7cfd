"""Reading the outbox in id order without skipping a late commit (runs in worker threads).

Outbox ids come from a sequence at INSERT time, but transactions commit in any order: id 11
may be visible while id 10 is still in an open transaction that will commit a moment later.
A reader that moved past 10 on seeing 11 would lose 10 for good (live clients never get it and
``Last-Event-ID: 11`` never replays it). So the stream only passes ids that are *final*:
committed, or never going to be.

``Horizon.step`` keeps that boundary. Every id up to ``horizon`` is final. A new id right after
the horizon (``horizon + 1``) is final as soon as it is visible. When a visible row sits after a
missing id (a gap), the missing id is either rolled back / skipped by the sequence (final, never
comes) or held by a transaction still running. That transaction took ``RowExclusiveLock`` on the
outbox table before its INSERT drew the id, and keeps the lock until it ends, so the
transactions that can still fill a gap are exactly those that hold the lock *now* (read after
the rows were read, so one that finished in between is visible on the next read). The horizon
waits for those (by virtual transaction id: a pid may start a new transaction) and only then
moves past the gap; anything they committed is read then, in id order.

Why not a settle window (pass ids older than N ms): a transaction can stay open for longer than
any window (a slow import emitting its events before a long commit), and its events would be
skipped. Why not ``pg_snapshot_xmin``: it waits for *every* open write transaction on the
server, so one long unrelated write (a migration, an import) would stall every stream. Waiting
only for transactions that touched the outbox stalls the stream only behind a transaction that
wrote an event and has not committed yet; webhooks do not wait at all (the relay has no order).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from apps.events.models import OutboxEvent

COLUMNS = ("id", "event_id", "type", "tenant_id", "tenant_slug", "reseller_id", "data", "request_id",
           "occurred_at")
BATCH = 1000


def read_after(after: int, *, upto: int | None = None, limit: int = BATCH, **filters) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(id__gt=after, **filters)
    if upto is not None:
        rows = rows.filter(id__lte=upto)
    return list(rows.order_by("id").only(*COLUMNS)[:limit])


def max_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {OutboxEvent._meta.db_table}")
        return cursor.fetchone()[0]


def writers() -> set[str]:
    """Virtual transaction ids of the other transactions that may have inserted outbox rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation'"
            " AND relation = %s::regclass AND mode = 'RowExclusiveLock' AND granted"
            " AND pid <> pg_backend_pid()", [OutboxEvent._meta.db_table])
        return {row[0] for row in cursor.fetchall()}


@dataclass
class Horizon:
    """Where the stream is: every outbox id <= ``horizon`` is final and has been published."""

    horizon: int = 0
    ready: bool = False  # False until the starting point is final
    # While a gap is open: every id <= upto is final once none of these transactions runs.
    waiting_on: set[str] = field(default_factory=set)
    upto: int = 0
    gaps: int = 0  # how many gaps had to wait (reported by the stream's stats)

    def step(self) -> list[OutboxEvent]:
        """What became final since the last step, in id order. Never blocks: while a gap is
        open it returns what it can (possibly nothing) and the caller steps again soon."""
        if not self.ready and not self.waiting_on:
            # Start at the current end (older events are replayed from the database on request),
            # once the transactions that might still commit below it have ended.
            self.upto, self.waiting_on = max_id(), writers()
            if not self.waiting_on:
                self.horizon, self.ready = self.upto, True
        out: list[OutboxEvent] = []
        if self.waiting_on:
            self.waiting_on &= writers()
            if self.waiting_on:
                return out
            if self.ready:
                out += read_after(self.horizon, upto=self.upto, limit=None)
            self.horizon, self.ready = self.upto, True
        rows = read_after(self.horizon)
        contiguous = 0
        while contiguous < len(rows) and rows[contiguous].id == self.horizon + contiguous + 1:
            contiguous += 1
        out += rows[:contiguous]
        self.horizon += contiguous
        if contiguous < len(rows):
            # A gap. Who could still fill it is read only now, after the rows (see the module doc).
            self.upto, self.waiting_on = rows[-1].id, writers()
            self.gaps += 1
            if not self.waiting_on:
                out += read_after(self.horizon, upto=self.upto, limit=None)
                self.horizon = self.upto
        return out

    @property
    def waiting(self) -> bool:
        return bool(self.waiting_on)
