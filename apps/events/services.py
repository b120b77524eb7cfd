"""emit_event: record a business event in the outbox, inside the caller's transaction."""
from __future__ import annotations

import logging
from typing import Any, Callable

from django.db import transaction
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.events.registry import EVENT_TYPES
from thirdlane.context import current_request_id

logger = logging.getLogger(__name__)

# Called once per committed transaction that wrote events (the webhook relay registers here).
_after_commit_hooks: list[Callable[[], None]] = []


def on_events_committed(hook: Callable[[], None]) -> Callable[[], None]:
    _after_commit_hooks.append(hook)
    return hook


def _run_hooks() -> None:
    for hook in _after_commit_hooks:
        try:
            hook()
        except Exception as exc:  # a lost nudge only delays delivery: the beat sweep picks rows up
            # One line with the reason: a transient Redis failure is expected, not a bug to trace.
            logger.warning("outbox nudge %s failed (%s: %s); the sweep will deliver",
                           getattr(hook, "__name__", hook), type(exc).__name__, str(exc)[:200])


_run_hooks._outbox_nudge = True  # how emit_events finds its own pending on-commit callback


def emit_event(*, type: str, data: dict[str, Any], tenant=None, tenant_id: int | None = None,
               tenant_slug: str = "", reseller_id: int | None = None, system: bool | None = None,
               request_id: str | None = None) -> OutboxEvent:
    """Write one outbox row in the current transaction.

    Must be called inside ``transaction.atomic`` (services are): an event exists only if the
    change it describes committed. ``system`` defaults to the event type's registration.
    """
    return emit_events(type=type, data=[data], tenant=tenant, tenant_id=tenant_id, tenant_slug=tenant_slug,
                       reseller_id=reseller_id, system=system, request_id=request_id)[0]


def emit_events(*, type: str, data: list[dict[str, Any]], tenant=None, tenant_id: int | None = None,
                tenant_slug: str = "", reseller_id: int | None = None, system: bool | None = None,
                request_id: str | None = None) -> list[OutboxEvent]:
    """``emit_event`` for many events of one type and owner, written with one INSERT."""
    event_type = EVENT_TYPES.get(type)
    if event_type is None:
        raise ValueError(f"unknown event type {type!r}: register it in the app's event_types module")
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("emit_event must run inside transaction.atomic (the change's own transaction)")
    if tenant is not None:
        tenant_id, tenant_slug, reseller_id = tenant.pk, tenant.slug, tenant.reseller_id
    now = timezone.now()
    request_id = request_id or current_request_id() or ""
    rows = [OutboxEvent(type=type, data=item, tenant_id=tenant_id, tenant_slug=tenant_slug or "",
                        reseller_id=reseller_id, system=event_type.system if system is None else system,
                        request_id=request_id, occurred_at=now) for item in data]
    rows = rows[:1] and OutboxEvent.objects.bulk_create(rows, batch_size=500)
    # One nudge per transaction: look for ours among the pending on-commit callbacks (Django
    # drops those of a rolled-back savepoint, so this stays right under nested atomics).
    if rows and not any(getattr(item[1], "_outbox_nudge", False) for item in conn.run_on_commit):
        transaction.on_commit(_run_hooks)
    return rows
