"""Delivering: one signed POST per attempt, the retry schedule, and the due-sweep.

The Delivery row is the truth: a worker claims due rows with ``SELECT ... FOR UPDATE SKIP
LOCKED`` and keeps them locked while it posts, then records the attempts and the outcome in the
same transaction. A worker killed mid-delivery (``acks_late`` is on, but the row matters more
than the message) drops its connection, PostgreSQL rolls the transaction back and releases the
rows, and the next sweep hands them to another worker: the receiver may see that message twice
(at least once; ``webhook-id`` lets it dedupe), never zero times.

Retries follow ``RETRY_SCHEDULE`` with +-10% jitter: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h (8 attempts over ~28 h). ``next_attempt_at`` is stored; short delays also get a Celery
countdown so they happen on time, long ones are found by the sweep. ``Retry-After`` on 429/503
replaces the scheduled delay. 410 disables the subscription. Other 4xx answers (except 408, 425
and 429) are the receiver refusing this message: no retry. A subscription whose attempts have
all failed for ``WEBHOOK_DISABLE_AFTER_DAYS`` (5) is disabled, and ``system.webhook.disabled``
is emitted.

An endpoint that is already failing gets one probe per batch; its other deliveries wait for
the probe's next attempt without spending attempts (``_probes``/``_park``).

Every function takes ``now`` so tests (and the sweep) can run the schedule with a fake clock.
Signatures always use the real time: receivers check it.
"""
from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.webhooks import signing, targets
from apps.webhooks.models import Attempt, Delivery, Subscription
from apps.webhooks.relay import no_fsync_wait

logger = logging.getLogger(__name__)

RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)  # seconds after attempt 1, 2, ...
JITTER = 0.1
# Delays up to this get a Celery countdown; longer ones wait for the sweep.
COUNTDOWN_MAX = 300
# A due delivery whose nudge is older than this is nudged again by the sweep.
NUDGE_GRACE = timedelta(seconds=30)
RETRY_AFTER_MAX = 24 * 3600
# The sweep relays outbox rows older than this (younger ones have a relay nudge on its way).
SWEEP_RELAY_AGE = timedelta(seconds=2)
DELIVER_BATCH = 25
TRANSIENT_4XX = {408, 425, 429}


def disable_after() -> timedelta:
    return timedelta(days=getattr(settings, "WEBHOOK_DISABLE_AFTER_DAYS", 5))


# --- the message ---------------------------------------------------------------------------

def event_body(event) -> dict:
    """The message of one outbox event: what a webhook posts and the event stream sends."""
    return {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "tenant": event.tenant_slug or None,
        "event_id": str(event.event_id),
        "request_id": event.request_id or None,
        "data": event.data,
    }


def body_json(body: dict) -> str:
    """The exact text of a message (compact, keys sorted), shared with the event stream."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def body_for(delivery: Delivery) -> dict:
    if delivery.payload is not None:
        return delivery.payload
    return event_body(delivery.event)


def request_for(delivery: Delivery, subscription: Subscription, signed_at: datetime | None = None
                ) -> tuple[bytes, dict[str, str]]:
    """The exact bytes and headers of one attempt."""
    signed_at = signed_at or datetime.now(tz=dt_timezone.utc)
    body = body_json(body_for(delivery))
    headers = {str(k): str(v) for k, v in (subscription.headers or {}).items()}
    headers.update({
        "Content-Type": "application/json",
        "User-Agent": targets.USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": signing.signature_header(subscription.signing_secrets(signed_at), delivery.message_id,
                                                      signed_at, body),
    })
    return body.encode(), headers


def attempt_once(delivery: Delivery, subscription: Subscription) -> targets.Result:
    """One attempt; never raises (a bug here must not roll back the rest of a batch)."""
    try:
        body, headers = request_for(delivery, subscription)
    except Exception as exc:
        logger.exception("could not build webhook request", extra={"delivery": delivery.pk})
        return targets.Result(False, None, 0, error=f"internal error: {type(exc).__name__}")
    return targets.post(subscription.url, body, headers)


# --- the retry policy -----------------------------------------------------------------------

def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 1.0), RETRY_AFTER_MAX)


def retry_delay(attempt_count: int, result: targets.Result, now: datetime) -> float | None:
    """Seconds until the next attempt, or None to give up."""
    code = result.status_code
    if code is not None and 400 <= code < 500 and code not in TRANSIENT_4XX:
        return None
    if attempt_count > len(RETRY_SCHEDULE):
        return None
    if code in (429, 503):
        honoured = parse_retry_after(result.retry_after, now)
        if honoured is not None:
            return honoured
    base = RETRY_SCHEDULE[attempt_count - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


# --- processing due deliveries -------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _http_pool() -> ThreadPoolExecutor:
    """Threads for the network wait (created lazily, so after a prefork worker has forked)."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=int(getattr(settings, "WEBHOOK_HTTP_THREADS", 16)),
                                               thread_name_prefix="webhook-http")
    return _executor


def deliver(delivery_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Attempt the given deliveries that are pending and due; return how many were attempted.

    Safe to call with ids that are not due, already done, or being delivered by another worker:
    those are skipped.
    """
    now = now or timezone.now()
    ids = list(delivery_ids)
    if not ids:
        return 0
    retries: list[tuple[int, float]] = []
    with transaction.atomic():
        no_fsync_wait()
        deliveries = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription", "event")
            .filter(pk__in=ids, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        )
        if not deliveries:
            return 0
        live = []
        for d in deliveries:
            if d.subscription.enabled:
                live.append(d)
            else:
                d.status, d.next_attempt_at, d.last_error = Delivery.Status.FAILED, None, "webhook disabled"
        first, held = _probes(live)
        results = _attempt_all(first)
        # A failing endpoint that failed its probe again: its other deliveries wait for the next
        # probe instead of each costing an attempt (and a worker up to the 15 s timeout).
        down = {d.subscription_id for d, r in zip(first, results) if _endpoint_down(r)}
        parked = [d for d in held if d.subscription_id in down]
        second = [d for d in held if d.subscription_id not in down]
        live, results = first + second, results + _attempt_all(second)
        probe_next = {d.subscription_id: d for d, r in zip(first, results) if d.subscription_id in down}
        attempts, outcome = [], {}
        for d, result in zip(live, results):
            attempts.append(_record(d, result, now, retries))
            # Per subscription: 410 wins, then any success, else failure.
            sub_id, previous = d.subscription_id, outcome.get(d.subscription_id)
            if result.status_code == 410:
                outcome[sub_id] = "gone"
            elif previous == "gone":
                pass
            elif result.succeeded:
                outcome[sub_id] = "ok"
            elif previous is None:
                outcome[sub_id] = "failed"
        for d in parked:
            _park(d, probe_next[d.subscription_id], now, retries)
        Attempt.objects.bulk_create(attempts)
        _save_outcomes(deliveries)
        subscriptions = {d.subscription_id: d.subscription for d in live}
        for sub_id, state in outcome.items():
            _subscription_outcome(subscriptions[sub_id], state, now, live)
        if retries:
            transaction.on_commit(lambda: _nudge_later(retries))
    return len(live)


def _attempt_all(deliveries: list[Delivery]) -> list[targets.Result]:
    if len(deliveries) <= 1:
        return [attempt_once(d, d.subscription) for d in deliveries]
    return list(_http_pool().map(lambda d: attempt_once(d, d.subscription), deliveries))


def _probes(live: list[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
    """Split a batch: everything for healthy endpoints plus one probe per failing endpoint
    (``failing_since`` set) go first; the rest of a failing endpoint's deliveries wait for its probe."""
    first, held, probed = [], [], set()
    for d in live:
        if d.subscription.failing_since is None or d.subscription_id not in probed:
            first.append(d)
            probed.add(d.subscription_id)
        else:
            held.append(d)
    return first, held


def _endpoint_down(result: targets.Result) -> bool:
    """The endpoint, not the message, failed: no answer, or an answer that says "later"."""
    code = result.status_code
    return not result.succeeded and (code is None or code >= 500 or code in TRANSIENT_4XX)


def _park(d: Delivery, probe: Delivery, now: datetime, retries: list) -> None:
    """Wait for the endpoint's next probe: same time, no attempt spent, nothing logged as tried."""
    d.next_attempt_at = probe.next_attempt_at or now + timedelta(seconds=RETRY_SCHEDULE[0])
    d.nudged_at = None  # the sweep (or the probe's retry batch) picks it up when due
    d.last_error = "waiting: the endpoint is failing"


def _save_outcomes(deliveries: list[Delivery]) -> None:
    """One ``UPDATE ... FROM (VALUES ...)`` for the batch (Django's bulk_update builds a CASE per
    field and row, which cost more than the HTTP calls)."""
    row = "(%s::bigint, %s::varchar, %s::smallint, %s::timestamptz, %s::timestamptz, %s::timestamptz," \
          " %s::timestamptz, %s::smallint, %s::varchar)"
    params: list = []
    for d in deliveries:
        params += [d.pk, d.status, d.attempt_count, d.next_attempt_at, d.nudged_at, d.last_attempt_at,
                   d.delivered_at, d.last_status_code, d.last_error]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} AS d SET status = v.status, attempt_count = v.attempt_count,"
            " next_attempt_at = v.next_attempt_at, nudged_at = v.nudged_at, last_attempt_at = v.last_attempt_at,"
            " delivered_at = v.delivered_at, last_status_code = v.last_status_code, last_error = v.last_error"
            f" FROM (VALUES {', '.join([row] * len(deliveries))}) AS v(id, status, attempt_count, next_attempt_at,"
            " nudged_at, last_attempt_at, delivered_at, last_status_code, last_error) WHERE d.id = v.id",
            params,
        )


def _record(d: Delivery, result: targets.Result, now: datetime, retries: list) -> Attempt:
    d.attempt_count += 1
    d.last_attempt_at = now
    d.last_status_code = result.status_code
    d.last_error = result.error[:300]
    if result.succeeded:
        d.status, d.delivered_at, d.next_attempt_at = Delivery.Status.SUCCEEDED, now, None
    else:
        delay = None if result.status_code == 410 else retry_delay(d.attempt_count, result, now)
        if delay is None:
            d.status, d.next_attempt_at = Delivery.Status.FAILED, None
        else:
            d.next_attempt_at = now + timedelta(seconds=delay)
            if delay <= COUNTDOWN_MAX:
                d.nudged_at = d.next_attempt_at  # a countdown message will come then
                retries.append((d.pk, delay))
            else:
                d.nudged_at = None  # the sweep finds it when due
    if not result.succeeded:
        logger.info("webhook attempt failed", extra={
            "delivery": d.pk, "subscription": d.subscription_id, "event_type": d.event_type,
            "status_code": result.status_code, "error": result.error, "attempt": d.attempt_count})
    return Attempt(delivery=d, attempted_at=now, succeeded=result.succeeded, status_code=result.status_code,
                   duration_ms=result.duration_ms, response_excerpt=result.response_excerpt,
                   error=result.error[:300], address=result.address)


def _subscription_outcome(sub: Subscription, state: str, now: datetime, deliveries: list[Delivery]) -> None:
    """Keep ``failing_since`` and auto-disable. Conditional updates, so concurrent workers agree."""
    if state == "ok":
        if sub.failing_since is not None:
            Subscription.objects.filter(pk=sub.pk).update(failing_since=None)
        return
    if state == "gone":
        disable_subscription(sub, reason=Subscription.DisabledReason.GONE, now=now, last_error="HTTP 410")
        return
    Subscription.objects.filter(pk=sub.pk, failing_since__isnull=True).update(failing_since=now)
    since = sub.failing_since or now
    if now - since >= disable_after():
        last = next((d.last_error for d in deliveries if d.subscription_id == sub.pk and d.last_error), "")
        disable_subscription(sub, reason=Subscription.DisabledReason.FAILING, now=now, last_error=last)


def disable_subscription(sub: Subscription, *, reason: str, now: datetime, last_error: str = "") -> bool:
    """Disable once (the first worker to get here wins) and tell about it."""
    from apps.accounts.principal import Principal
    from apps.audit.models import AuditEntry
    from thirdlane.services import record_change

    changed = Subscription.objects.filter(pk=sub.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, disabled_at=now)
    if not changed:
        return False
    sub.refresh_from_db()
    logger.warning("webhook disabled", extra={"subscription": sub.pk, "reason": reason})
    data = {
        "webhook_id": sub.pk, "kind": sub.kind, "url": _without_query(sub.url), "reason": reason,
        "failing_since": sub.failing_since.isoformat().replace("+00:00", "Z") if sub.failing_since else None,
        "last_error": last_error,
    }
    record_change(actor=Principal.system("webhooks"), action=AuditEntry.Action.ACTION, verb="auto-disable",
                  instance=sub, tenant=sub.tenant if sub.tenant_id else None,
                  reseller_id=sub.reseller_id, event_type="system.webhook.disabled", event_data=data)
    return True


def _without_query(url: str) -> str:
    """A URL fit for an event payload: tokens often ride in the query string."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", "")) if parts.port is None else \
        urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", ""))


# --- nudging workers ------------------------------------------------------------------------

PUBLIC = {"_schema_name": "public"}  # our tasks read public tables whatever the sender's schema


def task_options() -> dict:
    """Where our tasks go: settings.WEBHOOK_QUEUE (a dedicated queue), else Celery's default."""
    queue = getattr(settings, "WEBHOOK_QUEUE", None)
    return {"headers": PUBLIC, **({"queue": queue} if queue else {})}


def dispatch(delivery_ids: list[int]) -> None:
    """Ask workers to deliver these now. Losing this message only delays: the sweep re-asks."""
    if not delivery_ids:
        return
    from apps.webhooks.tasks import deliver_many

    try:
        for start in range(0, len(delivery_ids), DELIVER_BATCH):
            deliver_many.apply_async((delivery_ids[start:start + DELIVER_BATCH],), **task_options())
    except Exception:
        logger.warning("could not queue webhook deliveries; the sweep will", exc_info=True)


def _nudge_later(retries: list[tuple[int, float]]) -> None:
    from apps.webhooks.tasks import deliver_one

    try:
        for delivery_id, delay in retries:
            deliver_one.apply_async((delivery_id,), countdown=delay, **task_options())
    except Exception:
        logger.warning("could not queue webhook retries; the sweep will", exc_info=True)


def claim_due(*, now: datetime | None = None, limit: int = 5000, all_due: bool = False) -> list[int]:
    """Due deliveries that nobody was asked about recently (or whose worker died); with
    ``all_due``, every due one. Marks them nudged; rows being delivered right now are locked
    and skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        due = Delivery.objects.select_for_update(skip_locked=True).filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        if not all_due:
            due = due.filter(Q(nudged_at__isnull=True) | Q(nudged_at__lt=now - NUDGE_GRACE))
        rows = list(due.order_by("next_attempt_at").values_list("pk", "subscription_id")[:limit])
        ids = [pk for pk, _ in sorted(rows, key=lambda row: row[1])]  # batches per endpoint
        if ids:
            Delivery.objects.filter(pk__in=ids).update(nudged_at=now)
    return ids


def sweep(*, now: datetime | None = None, inline: bool = False) -> dict:
    """Relay what the nudges missed, then hand due deliveries that no live nudge covers to a
    worker. ``inline`` delivers everything due at ``now`` here instead (tests use it with a fake
    clock; operators can use it from a shell)."""
    from apps.webhooks.relay import relay_pending

    # Fresh rows are the nudged relay's job; the sweep takes only what a lost nudge left behind
    # (racing the relay for fresh rows would only move them to a slower path).
    created = relay_pending(older_than=None if inline else SWEEP_RELAY_AGE)
    due = claim_due(now=now, all_due=inline)
    if inline:
        attempted = sum(deliver(due[i:i + DELIVER_BATCH], now=now) for i in range(0, len(due), DELIVER_BATCH))
        attempted += sum(deliver(created[i:i + DELIVER_BATCH], now=now)
                         for i in range(0, len(created), DELIVER_BATCH))
        return {"relayed": len(created), "due": len(due), "attempted": attempted}
    dispatch(created + due)
    return {"relayed": len(created), "due": len(due)}


def purge(*, now: datetime | None = None) -> int:
    """Delete finished deliveries (and their attempts) older than WEBHOOK_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=getattr(settings, "WEBHOOK_RETENTION_DAYS", 30))
    total = 0
    while True:
        ids = list(Delivery.objects.filter(created_at__lt=cutoff).exclude(status=Delivery.Status.PENDING)
                   .values_list("pk", flat=True)[:5000])
        if not ids:
            return total
        Attempt.objects.filter(delivery_id__in=ids).delete()
        total += Delivery.objects.filter(pk__in=ids).delete()[0]
