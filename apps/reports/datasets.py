"""Agent statistics and call counters as lists of flat dicts: what the API returns and what the
scheduled exports (apps.billing) write, from the same code.

    agent_stats_rows(tenant, *, start=None, end=None, interval="day", tz=None, queue=None,
                     by_queue=False, service_level_seconds=20) -> list[dict]
    agent_stats_page(tenant, *, window, limit, offset=0, ...) -> (list[dict], total)
    call_counter_rows(tenant, *, start=None, end=None, interval="day", tz=None) -> list[dict]
    platform_call_counter_rows(tenants, *, start=None, end=None, interval="day", tz="UTC") -> list[dict]

``start``/``end``: aware date-times, naive ones (read in ``tz``) or ISO 8601 strings; without
them the last 24 hours / 7 days / 4 weeks up to the end of the current one. ``tz``: an IANA name,
the tenant's ``timezone`` by default. Bad values raise ``thirdlane.api.errors.DomainError``
(``invalid_filter``, ``invalid_range``, ``range_too_long``, ``invalid_time_zone``) naming the
parameter. Each call runs ONE SQL statement, whatever the number of agents, queues or tenants.
``interval_start``/``interval_end`` are aware date-times in ``tz``. docs/calls.md lists the fields.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

from django.db import connection

from apps.reports import sql
from apps.reports.params import Window, window_from
from apps.tenants.crossschema import run_over_schemas

AGENT_FIELDS = ("level", "interval_start", "interval_end", "extension", "agent_id", "agent_name", "queue", "offered",
                "answered", "missed", "answered_within_sl", "service_level", "talk_seconds", "hold_seconds",
                "wrapup_seconds", "handle_seconds", "average_handle_seconds", "logged_in_seconds", "pause_seconds",
                "pause_by_reason")
COUNTER_FIELDS = ("dimension", "interval_start", "interval_end", "direction", "disposition", "trunk", "did", "calls",
                  "answered", "billsec", "minutes", "peak_concurrent")
PLATFORM_COUNTER_FIELDS = ("tenant", *COUNTER_FIELDS)


def _window(tenant, start, end, interval, tz) -> Window:
    return window_from(start=start, end=end, interval=interval,
                       tz=tz if tz is not None else (getattr(tenant, "timezone", "") or "UTC"))


def _params(window: Window, **extra) -> dict:
    return {"start": window.start, "end": window.end, "tz": window.tz, **extra}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _agent_statement(tenant, window: Window, queue: str | None, by_queue: bool, sl: int) -> tuple[str, dict]:
    statement = sql.agent_stats(tenant.schema_name, window.interval, queue=bool(queue), by_queue=by_queue)
    return statement, _params(window, sl=sl, queue=queue or "")


def agent_stats_rows(tenant, *, start=None, end=None, interval: str = "day", tz: str | None = None,
                     queue: str | None = None, by_queue: bool = False, service_level_seconds: int = 20,
                     window: Window | None = None) -> list[dict]:
    window = window or _window(tenant, start, end, interval, tz)
    statement, params = _agent_statement(tenant, window, queue, by_queue, service_level_seconds)
    with connection.cursor() as cursor:
        cursor.execute(statement + sql.agent_order(), params)
        records = cursor.fetchall()
    return [_agent_row(record, window.zone) for record in records]


def agent_stats_page(tenant, *, window: Window, limit: int, offset: int = 0, queue: str | None = None,
                     by_queue: bool = False, service_level_seconds: int = 20) -> tuple[list[dict], int]:
    """``(rows, total)``: rows ``offset`` to ``offset + limit`` of ``agent_stats_rows`` and how many
    there are in all, in one statement; only the page's rows are shaped."""
    statement, params = _agent_statement(tenant, window, queue, by_queue, service_level_seconds)
    with connection.cursor() as cursor:
        cursor.execute(sql.agent_stats_page(statement), {**params, "limit": limit, "offset": offset})
        records = cursor.fetchall()
    total = records[0][-1] if records else 0
    return [_agent_row(record[:-1], window.zone) for record in records if record[0] is not None], total


def _agent_row(record, zone) -> dict:
    (level, b_start, b_end, extension, agent_id, agent_name, q, offered, answered, within, talk, hold, wrapup,
     logged_in, by_reason) = record
    talk, hold, wrapup = round(talk or 0), round(hold or 0), round(wrapup or 0)
    handle = talk + hold + wrapup
    if isinstance(by_reason, str):  # Django reads jsonb as text
        by_reason = json.loads(by_reason)
    reasons = None if by_reason is None else {k: round(v) for k, v in sorted(by_reason.items())}
    return {
        "level": level, "interval_start": b_start.astimezone(zone), "interval_end": b_end.astimezone(zone),
        "extension": extension, "agent_id": agent_id, "agent_name": agent_name, "queue": q,
        "offered": offered, "answered": answered, "missed": offered - answered, "answered_within_sl": within,
        "service_level": _ratio(within, offered if level == "queue" else answered),
        "talk_seconds": talk, "hold_seconds": hold, "wrapup_seconds": wrapup, "handle_seconds": handle,
        "average_handle_seconds": round(handle / answered, 1) if answered else None,
        "logged_in_seconds": None if logged_in is None else round(logged_in),
        "pause_seconds": None if reasons is None else sum(reasons.values()),
        "pause_by_reason": reasons,
    }


def _counter_row(record, zone) -> dict:
    (dimension, b_start, b_end, direction, disposition, trunk, did, calls, answered, billsec, peak) = record
    return {"dimension": dimension, "interval_start": b_start.astimezone(zone), "interval_end": b_end.astimezone(zone),
            "direction": direction, "disposition": disposition, "trunk": trunk, "did": did, "calls": calls,
            "answered": answered, "billsec": int(billsec), "minutes": round(int(billsec) / 60, 2),
            "peak_concurrent": peak}


def call_counter_rows(tenant, *, start=None, end=None, interval: str = "day", tz: str | None = None,
                      window: Window | None = None) -> list[dict]:
    window = window or _window(tenant, start, end, interval, tz)
    statement = sql.call_counters(tenant.schema_name, window.interval) + sql.COUNTER_ORDER.format(tenant="")
    with connection.cursor() as cursor:
        cursor.execute(statement, _params(window))
        records = cursor.fetchall()
    return [_counter_row(record, window.zone) for record in records]


def platform_call_counter_rows(tenants: Iterable, *, start=None, end=None, interval: str = "day", tz: str = "UTC",
                               window: Window | None = None) -> list[dict]:
    """The counters of many tenants, one statement over their schemas (``tenant`` = slug)."""
    from apps.calls.models import Call

    window = window or window_from(start=start, end=end, interval=interval, tz=tz)
    slugs = {t.schema_name: t.slug for t in tenants}

    def build(schemas):
        params = _params(window)
        parts = []
        for n, schema in enumerate(schemas):
            params[f"t{n}"] = slugs[schema]
            parts.append(sql.call_counters(schema, window.interval, tenant_param=f"t{n}"))
        return ("SELECT * FROM (" + " UNION ALL ".join(parts) + ") rollup "
                + sql.COUNTER_ORDER.format(tenant="tenant, ")), params

    records = run_over_schemas(build, sorted(slugs), [Call._meta.db_table])
    zone = window.zone
    return [{"tenant": record[0], **_counter_row(record[1:], zone)} for record in records]


def as_text(value) -> str:
    """One CSV cell: ISO date-times, ``reason=seconds;...`` for pauses, empty for none."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return str(value)
