"""After a commit that wrote outbox events: tell the stream processes to read now.

One PUBLISH per committed transaction (not per event). Pub/sub is fire-and-forget and that is
enough: the stream processes also poll, so a lost nudge (Redis down, nobody listening) delays
the stream by at most ``EVENT_STREAM_POLL_INTERVAL``, never loses an event.
"""
from __future__ import annotations

import time

from django.conf import settings

from apps.events.services import on_events_committed
from thirdlane.redis import get_redis

# While Redis is unreachable, writers skip the nudge instead of paying a failed call per commit.
BACKOFF_SECONDS = 5.0
_down_until = 0.0


def channel() -> str:
    # Pub/sub channels are not per Redis database: name the PostgreSQL database, so deployments
    # (and test runs) sharing one Redis server do not nudge each other.
    return f"thirdlane:outbox-committed:{settings.DATABASES['default']['NAME']}"


@on_events_committed
def nudge_streams() -> None:
    global _down_until
    if not settings.EVENT_STREAM_NUDGE or time.monotonic() < _down_until:
        return
    try:
        get_redis().publish(channel(), b"1")
    except Exception:
        _down_until = time.monotonic() + BACKOFF_SECONDS
        raise
