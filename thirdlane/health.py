"""Liveness of the portal's parts: database, Redis and the Celery worker.

Beat schedules ``core.heartbeat`` every 15 s; the worker that runs it stamps the time in Redis.
A recent stamp proves broker, beat and worker all work; if it is stale we ask the workers
directly with a short ping.
"""
from __future__ import annotations

import time

from celery import shared_task

HEARTBEAT_KEY = "thirdlane:worker:heartbeat"
STALE_AFTER = 60.0


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat() -> None:
    from thirdlane.redis import get_redis

    get_redis().set(HEARTBEAT_KEY, f"{time.time():.3f}", ex=3600)


def check_database() -> dict:
    from django.db import connection

    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # report, never raise: this is the health endpoint
        return {"status": "error", "error": type(exc).__name__}


def check_redis() -> dict:
    from thirdlane.redis import get_redis

    started = time.perf_counter()
    try:
        get_redis().ping()
        return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:
        return {"status": "error", "error": type(exc).__name__}


def check_worker(redis_ok: bool) -> dict:
    from thirdlane.celery import app
    from thirdlane.redis import get_redis

    if not redis_ok:
        return {"status": "unknown", "error": "broker unavailable"}
    try:
        stamp = get_redis().get(HEARTBEAT_KEY)
    except Exception:
        stamp = None
    age = time.time() - float(stamp) if stamp else None
    if age is not None and age < STALE_AFTER:
        return {"status": "ok", "last_heartbeat_seconds": round(age, 1)}
    try:
        replies = app.control.ping(timeout=0.5) or []
    except Exception:
        replies = []
    if replies:
        return {"status": "ok", "workers": len(replies),
                "last_heartbeat_seconds": round(age, 1) if age is not None else None}
    return {"status": "down", "last_heartbeat_seconds": round(age, 1) if age is not None else None}
