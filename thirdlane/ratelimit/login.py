"""Failed sign-ins counted per user name and per client address (HTTP Basic and the admin login).

After ``LOGIN_FAILURES_PER_USERNAME`` failures for one user name, or
``LOGIN_FAILURES_PER_IP`` from one address, within ``LOGIN_FAILURE_WINDOW`` seconds, further
attempts are refused before the password is even looked at, until the window ends. Names that
do not exist are counted exactly like real ones, so the refusal says nothing about who exists.
A success clears its user name's count (not the address's: one account's success must not
license guessing at others).

The address limit is higher than the user name limit by default because many honest users can
share one address (an office behind NAT).
"""
from __future__ import annotations

import hashlib
import math

from django.conf import settings

from thirdlane.ratelimit import store


def client_ip(request) -> str:
    """REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the address the first of them saw."""
    meta = request.META
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return meta.get("REMOTE_ADDR") or "unknown"


def _keys(username: str, ip: str) -> tuple[str, str]:
    # Hashed: user names are not kept in Redis, and any byte in them makes a valid key.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"rl:login:user:{name}", f"rl:login:ip:{ip}"


def _limits() -> tuple[int, int]:
    return settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_FAILURES_PER_IP


def blocked_for(username: str, ip: str) -> int:
    """Seconds until this user name and address may try again; 0 when they may now."""
    keys = _keys(username, ip)

    def read(client):
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        return pipe.execute()

    reply = store.run(read, None)
    if reply is None:
        return 0
    wait_ms = 0
    for (count, ttl_ms), limit in zip((reply[0:2], reply[2:4]), _limits()):
        if int(count or 0) >= limit:
            wait_ms = max(wait_ms, ttl_ms if ttl_ms > 0 else settings.LOGIN_FAILURE_WINDOW * 1000)
    return math.ceil(wait_ms / 1000)


def record_failure(username: str, ip: str) -> None:
    def count(client):
        pipe = client.pipeline(transaction=True)
        for key in _keys(username, ip):
            pipe.incr(key)
            pipe.expire(key, settings.LOGIN_FAILURE_WINDOW, nx=True)  # the window starts at the first failure
        pipe.execute()

    store.run(count, None)


def record_success(username: str) -> None:
    store.run(lambda client: client.delete(_keys(username, "")[0]), None)


def message(wait: int) -> str:
    minutes = max(1, math.ceil(wait / 60))
    return (f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.")
