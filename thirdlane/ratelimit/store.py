"""The Redis connection for rate limits, failing open.

Rate limiting protects the service; it must never be the reason a request fails. When Redis
does not answer, checks are skipped (and a warning logged) and, for a few seconds, not even
tried: a dead Redis costs each request nothing instead of a connection timeout.
"""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Callable, TypeVar

import redis
from django.conf import settings

logger = logging.getLogger("thirdlane.ratelimit")

T = TypeVar("T")

# Seconds to skip Redis after it failed (per process).
BACKOFF_SECONDS = 5.0
_down_until = 0.0


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # Short timeouts: this sits on every API request, unlike the helper's broker-minded 2 s.
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)


def client() -> redis.Redis:
    return _client(settings.RATE_LIMIT_REDIS_URL or settings.REDIS_URL)


def run(operation: Callable[[redis.Redis], T], default: T) -> T:
    """``operation(client)``, or ``default`` when Redis is unreachable (fail open)."""
    global _down_until
    if time.monotonic() < _down_until:
        return default
    try:
        return operation(client())
    except redis.RedisError as exc:
        _down_until = time.monotonic() + BACKOFF_SECONDS
        logger.warning("rate limits not enforced for %.0f s: Redis is unavailable (%s)", BACKOFF_SECONDS, exc)
        return default


def reset() -> None:
    """Forget a past outage (tests)."""
    global _down_until
    _down_until = 0.0
