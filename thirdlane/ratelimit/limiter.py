"""GCRA rate limiting over several buckets at once, atomically, in one Redis round trip.

GCRA (the generic cell rate algorithm) keeps one number per bucket: the theoretical arrival
time (TAT) of the next request. A limit of ``limit`` requests per ``period`` lets a burst of
``limit`` through, then one request every ``period / limit``: no edge where two fixed windows
meet and twice the limit passes. The script reads the clock of Redis itself, so web workers on
different hosts agree on time.

All buckets of a request are decided together: when any one is exhausted nothing is consumed
from the others, so a refused request never costs the caller quota elsewhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from thirdlane.ratelimit import store

# KEYS: one per bucket. ARGV: limit and period (microseconds) per bucket, in the same order.
# Returns {allowed, wait_us, remaining_1, reset_us_1, remaining_2, reset_us_2, ...}.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local tats, intervals, periods = {}, {}, {}
local wait = 0
for i = 1, n do
  local limit = tonumber(ARGV[2 * i - 1])
  local period = tonumber(ARGV[2 * i])
  local interval = math.floor(period / limit)
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  tats[i], intervals[i], periods[i] = tat, interval, period
  local allow_at = tat + interval - period
  if allow_at > now and allow_at - now > wait then wait = allow_at - now end
end
local out = {wait == 0 and 1 or 0, wait}
for i = 1, n do
  local tat = tats[i]
  if wait == 0 then
    tat = tat + intervals[i]
    -- as text: Lua would print a large number in exponent notation and lose digits
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', string.format('%.0f', math.ceil((tat - now) / 1000)))
  end
  local remaining = math.floor((periods[i] - (tat - now)) / intervals[i])
  if remaining < 0 then remaining = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = tat - now
end
return out
"""

_scripts: dict[int, object] = {}


@dataclass(frozen=True)
class Bucket:
    name: str  # what it limits, for RateLimit-Policy: "credential" or "tenant"
    key: str  # Redis key
    limit: int  # requests per period
    period: int  # seconds


@dataclass(frozen=True)
class BucketState:
    bucket: Bucket
    remaining: int
    reset: int  # seconds until the bucket is full again


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds; 0 when allowed
    states: tuple[BucketState, ...]

    def headers(self) -> dict[str, str]:
        """IETF RateLimit-* fields for the bucket closest to refusal, and every policy."""
        tightest = min(self.states, key=lambda s: (s.remaining, -s.reset))
        return {
            "RateLimit-Limit": str(tightest.bucket.limit),
            "RateLimit-Remaining": str(tightest.remaining),
            "RateLimit-Reset": str(tightest.reset),
            "RateLimit-Policy": ", ".join(
                f'{s.bucket.limit};w={s.bucket.period};comment="{s.bucket.name}"' for s in self.states),
        }


def _script(client):
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_GCRA)
    return script


def hit(buckets: list[Bucket]) -> Decision | None:
    """Count one request against every bucket; None when Redis is unavailable (allow it)."""
    if not buckets:
        return None
    args: list[int] = []
    for bucket in buckets:
        args += [max(1, bucket.limit), max(1, bucket.period) * 1_000_000]
    reply = store.run(lambda c: _script(c)(keys=[b.key for b in buckets], args=args), None)
    if reply is None:
        return None
    allowed, wait_us, *rest = (int(v) for v in reply)
    states = tuple(
        BucketState(bucket, remaining=rest[2 * i], reset=math.ceil(rest[2 * i + 1] / 1_000_000))
        for i, bucket in enumerate(buckets))
    return Decision(allowed=bool(allowed), retry_after=math.ceil(wait_us / 1_000_000) if not allowed else 0,
                    states=states)
