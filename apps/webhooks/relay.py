"""The relay: committed outbox rows become one Delivery per matching subscription.

Run from a Celery task nudged after every commit that wrote events, and from the beat sweep,
so a lost nudge (Redis down, web process killed after its commit) only delays. Workers claim
outbox rows with ``SELECT ... FOR UPDATE SKIP LOCKED``, so any number of them relay in parallel
without waiting on each other or relaying a row twice; the ``(subscription, event)`` unique
constraint (``ON CONFLICT DO NOTHING``) makes a repeated relay harmless anyway.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.webhooks.models import Delivery, Subscription
from apps.webhooks.matching import subscription_wants

logger = logging.getLogger(__name__)

RELAY_BATCH = 500


def no_fsync_wait() -> None:
    """Bookkeeping transactions (relay, delivery outcomes) do not wait for the WAL flush.

    Safe for at-least-once: the outbox row the service committed is durable. If PostgreSQL
    crashed and lost one of these commits, the relay would run again (the outbox row is unrelayed
    again) or the delivery would be attempted again (its outcome is gone): a duplicate, never a
    loss. It removes one fsync per relay and per delivery batch from the latency path.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def message_id_for(event) -> str:
    return f"msg_{event.event_id.hex}"


def relay_pending(*, max_batches: int = 40, older_than: timedelta | None = None) -> list[int]:
    """Relay committed, unrelayed outbox rows (only those older than ``older_than``, if given).
    Returns the ids of the deliveries created."""
    created: list[int] = []
    for _ in range(max_batches):
        ids, seen = _relay_batch(older_than)
        created += ids
        if seen < RELAY_BATCH:
            break
    return created


def _candidates(events: list[OutboxEvent]) -> list[Subscription]:
    tenant_ids = {e.tenant_id for e in events if e.tenant_id is not None}
    wanted = Q(kind=Subscription.Kind.TENANT, tenant_id__in=tenant_ids) if tenant_ids else Q(pk__in=[])
    if any(e.system for e in events):
        wanted |= Q(kind=Subscription.Kind.SYSTEM)
    return list(Subscription.objects.filter(wanted, enabled=True)
                .only("id", "kind", "tenant_id", "reseller_id", "event_types", "created_at"))


def _relay_batch(older_than: timedelta | None = None) -> tuple[list[int], int]:
    now = timezone.now()
    pending = OutboxEvent.objects.filter(relayed_at__isnull=True)
    if older_than is not None:
        pending = pending.filter(occurred_at__lt=now - older_than)
    with transaction.atomic():
        no_fsync_wait()
        events = list(
            pending.order_by("id")
            .select_for_update(skip_locked=True)
            .only("id", "event_id", "type", "tenant_id", "reseller_id", "system", "occurred_at")[:RELAY_BATCH]
        )
        if not events:
            return [], 0
        subscriptions = _candidates(events)
        # Grouped by subscription, so each delivery batch (25 ids) mostly goes to one endpoint and
        # a slow or dead endpoint holds up its own batches rather than everyone's.
        rows = [(s.pk, e.pk, e.type, message_id_for(e))
                for s in subscriptions for e in events if subscription_wants(s, e)]
        ids = insert_deliveries(rows, now=now)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=now)
    if ids:
        logger.debug("relayed %d events into %d deliveries", len(events), len(ids))
    return ids, len(events)


def insert_deliveries(rows: list[tuple[int, int, str, str]], *, now) -> list[int]:
    """Insert pending deliveries (subscription_id, event_id, type, message_id); skip existing ones.

    One statement per 1,000 rows; returns the ids of the rows actually inserted.
    """
    ids: list[int] = []
    table = Delivery._meta.db_table
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        values = ", ".join(["(%s, %s, %s, %s, 'pending', 0, %s, %s, %s, '', false)"] * len(chunk))
        params: list = []
        for subscription_id, event_id, event_type, message_id in chunk:
            params += [subscription_id, event_id, event_type, message_id, now, now, now]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (subscription_id, event_id, event_type, message_id, status, attempt_count,"
                f" next_attempt_at, nudged_at, created_at, last_error, is_test) VALUES {values}"
                f" ON CONFLICT (subscription_id, event_id) DO NOTHING RETURNING id",
                params,
            )
            ids += [row[0] for row in cursor.fetchall()]
    return ids
