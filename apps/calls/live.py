"""Live state that is only true while it is fresh: queue members' device state and each
listener's health. Kept in Redis (shared by the web workers, written by the listener); nothing
here needs to survive a restart, because a (re)connecting listener asks the PBX again
(``QueueStatus``) and rewrites it.

    calls:members:<tenant id>   hash  "<queue>|<interface>" -> JSON member state
    calls:listener:<server id>  hash  connected, last_event_at, events, events_per_second, ...
"""
from __future__ import annotations

import json
import logging
import time

import redis

from thirdlane.redis import get_redis

logger = logging.getLogger(__name__)

# Asterisk's device states (AST_DEVICE_*), as QueueMemberStatus reports them.
DEVICE_STATES = {0: "unknown", 1: "not_in_use", 2: "in_use", 3: "busy", 4: "invalid", 5: "unavailable",
                 6: "ringing", 7: "ring_in_use", 8: "on_hold"}
LISTENER_TTL = 120  # seconds: a listener that stopped writing is reported as gone


def record_members(tenant, members) -> None:
    values = {}
    for m in members:
        key = f"{m.queue}|{m.interface}"
        if m.event == "QueueMemberRemoved":
            values[key] = None
            continue
        values[key] = json.dumps({"queue": m.queue, "interface": m.interface, "extension": m.extension,
                                  "status": DEVICE_STATES.get(m.status, "unknown") if m.status is not None else None,
                                  "paused": m.paused, "paused_reason": m.reason, "in_call": m.in_call,
                                  "updated_at": time.time()})
    try:
        client = get_redis()
        pipe = client.pipeline(transaction=False)
        name = f"calls:members:{tenant.pk}"
        gone = [k for k, v in values.items() if v is None]
        kept = {k: v for k, v in values.items() if v is not None}
        if gone:
            pipe.hdel(name, *gone)
        if kept:
            pipe.hset(name, mapping=kept)
        pipe.execute()
    except redis.RedisError:
        logger.warning("could not record queue member state (Redis unavailable)", exc_info=True)


def members(tenant) -> dict[str, dict]:
    """``"<queue>|<interface>"`` -> state, for the live queue view."""
    try:
        raw = get_redis().hgetall(f"calls:members:{tenant.pk}")
    except redis.RedisError:
        return {}
    return {k.decode(): json.loads(v) for k, v in raw.items()}


def report_listener(server_id: int, **fields) -> None:
    try:
        client = get_redis()
        name = f"calls:listener:{server_id}"
        pipe = client.pipeline(transaction=False)
        pipe.hset(name, mapping={k: json.dumps(v) for k, v in fields.items()})
        pipe.expire(name, LISTENER_TTL)
        pipe.execute()
    except redis.RedisError:
        logger.warning("could not report listener health (Redis unavailable)")


def listener_health(server_ids) -> dict[int, dict]:
    """Per server: connected, last_event_at (epoch), events, events_per_second, unmapped, ..."""
    out: dict[int, dict] = {}
    try:
        client = get_redis()
        pipe = client.pipeline(transaction=False)
        ids = list(server_ids)
        for server_id in ids:
            pipe.hgetall(f"calls:listener:{server_id}")
        for server_id, raw in zip(ids, pipe.execute()):
            out[server_id] = {k.decode(): json.loads(v) for k, v in raw.items()} if raw else {}
    except redis.RedisError:
        return {}
    return out
