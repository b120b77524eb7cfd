"""Celery tasks. They take ids only; the rows say what is owed (see apps.webhooks.delivery).

The relay is nudged after every commit that wrote outbox events (``on_events_committed``);
beat runs ``webhooks.sweep`` every few seconds to relay what a lost nudge missed and to re-nudge
due deliveries, and ``webhooks.purge`` daily for retention.
"""
from __future__ import annotations

import logging
import time

from celery import shared_task

from apps.events.services import on_events_committed

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.relay", ignore_result=True)
def relay() -> int:
    from apps.webhooks.delivery import DELIVER_BATCH, deliver, dispatch
    from apps.webhooks.relay import relay_pending

    _clear_relay_queued()  # before looking: a commit from now on queues a new relay
    created = relay_pending()
    # The first batch is delivered right here (one Celery hop less on the latency path); the
    # rest goes out to every worker. Either way the rows are already committed as pending.
    dispatch(created[DELIVER_BATCH:])
    if created:
        deliver(created[:DELIVER_BATCH])
    return len(created)


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver_one(delivery_id: int) -> int:
    from apps.webhooks.delivery import deliver

    return deliver([delivery_id])


@shared_task(name="webhooks.deliver_many", ignore_result=True)
def deliver_many(delivery_ids: list[int]) -> int:
    from apps.webhooks.delivery import deliver

    return deliver(delivery_ids)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> dict:
    from apps.webhooks.delivery import sweep as run_sweep

    return run_sweep()


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> int:
    from apps.webhooks.delivery import purge as run_purge

    return run_purge()


# While the broker is unreachable, writers skip the nudge instead of paying a failed publish on
# every commit; beat's sweep relays what they wrote as soon as a worker runs again.
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


# Nudges are coalesced: a commit queues a relay only when none is queued and not yet started
# (a flag in the broker's Redis, cleared by the relay before it looks at the outbox). Without
# this, every commit adds a message; at a few hundred commits a second the queue fills with
# relays that find nothing, and the delivery messages behind them wait. The flag expires, so a
# lost relay message holds nudges back for at most RELAY_QUEUED_TTL (and the sweep relays).
RELAY_QUEUED_TTL = 5


def relay_queued_key() -> str:
    """One flag per queue (deployments, or test sessions, sharing a Redis do not mix)."""
    from django.conf import settings

    return f"thirdlane:webhooks:relay-queued:{getattr(settings, 'WEBHOOK_QUEUE', None) or 'default'}"


def _broker_redis(connection):
    """The broker's Redis client when the broker is Redis; None otherwise (then every commit
    nudges). Fails fast when the broker is down (the writer must not wait on it)."""
    connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1, interval_max=0.1,
                                 timeout=1)
    try:
        client = connection.default_channel.client
    except Exception:
        return None
    return client if hasattr(client, "set") and hasattr(client, "delete") else None


def _clear_relay_queued() -> None:
    try:
        with relay.app.pool.acquire(block=True, timeout=2) as connection:
            client = _broker_redis(connection)
            if client is not None:
                client.delete(relay_queued_key())
    except Exception as exc:  # no broker: relay from the database anyway
        logger.warning("could not clear the relay flag (%s: %s)", type(exc).__name__, str(exc)[:200])


@on_events_committed
def nudge_relay() -> None:
    """After a commit that wrote events: make sure a relay is queued that will see them."""
    global _broker_down_until
    from apps.webhooks.delivery import task_options

    if time.monotonic() < _broker_down_until:
        return
    try:
        with relay.app.pool.acquire(block=True, timeout=2) as connection:
            client = _broker_redis(connection)
            if client is not None and not client.set(relay_queued_key(), "1", nx=True, ex=RELAY_QUEUED_TTL):
                return  # a queued relay has not started yet: it will see this commit
            try:
                relay.apply_async(**task_options(), connection=connection, retry_policy={
                    "max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1})
            except Exception:
                if client is not None:
                    client.delete(relay_queued_key())
                raise
    except Exception:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        raise
