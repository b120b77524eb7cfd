"""The parameters of the statistics and counters: an interval, a time range and a time zone.

One set of rules for the API and for the dataset functions the scheduled exports call:
    interval   hour, day or week; buckets are cut in ``tz``: a day runs from local midnight to
               local midnight (23 or 25 hours on DST days), a week from Monday 00:00 local; an
               hour is a real hour (the repeated hour when clocks go back is two buckets)
    start/end  ISO 8601 date-times, the range [start, end); a date-time without an offset is
               read in ``tz``; ``end`` after ``start``; at most ``MAX_BUCKETS`` buckets
    tz         an IANA time zone name; the tenant's time zone by default (UTC for roll-ups)
Bad values are DomainErrors naming the parameter: ``invalid_filter``, ``invalid_range``
(end not after start), ``range_too_long`` and ``invalid_time_zone``.
"""
from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from django.utils.dateparse import parse_datetime

from thirdlane.api.errors import DomainError
from thirdlane.api.filters import reject_unknown_params

INTERVALS = ("hour", "day", "week")
MAX_BUCKETS = 1000
# Without start/end: the current bucket and the ones before it, this many in all.
DEFAULT_BUCKETS = {"hour": 24, "day": 7, "week": 4}
STEP = {"hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1), "week": dt.timedelta(weeks=1)}
UTC = dt.timezone.utc
# Date-time parameters take years 1900-2999 (stated in the OpenAPI document as this pattern): far
# enough for any call record, and a bucket's end never overflows.
YEAR_PATTERN = r"^(19|2[0-9])[0-9]{2}-"


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True)
class Window:
    start: dt.datetime  # aware, UTC
    end: dt.datetime  # aware, UTC
    interval: str
    tz: str

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.tz)


def bucket_start(value: dt.datetime, interval: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The start of the bucket holding ``value`` (what PostgreSQL's ``date_trunc(unit, t, tz)``
    gives), as an aware UTC date-time."""
    if interval == "hour":
        local = value.astimezone(zone)
        return (local - dt.timedelta(minutes=local.minute, seconds=local.second,
                                     microseconds=local.microsecond)).astimezone(UTC)
    day = value.astimezone(zone).date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    return dt.datetime.combine(day, dt.time(), zone).astimezone(UTC)


def bucket_count(window: Window) -> int:
    """How many buckets [start, end) touches."""
    first = bucket_start(window.start, window.interval, window.zone)
    if window.interval == "hour":
        return math.ceil((window.end - first).total_seconds() / 3600)
    zone = window.zone
    days = (window.end.astimezone(zone).date() - first.astimezone(zone).date()).days
    last_is_open = window.end != bucket_start(window.end, window.interval, zone)
    if window.interval == "day":
        return days + (1 if last_is_open else 0)
    return days // 7 + (1 if last_is_open else 0)


def _error(field: str, code: str, message: str) -> dict:
    return {field: [{"code": code, "message": message}]}


def _raise(errors: dict) -> None:
    codes = {item["code"] for items in errors.values() for item in items}
    code = codes.pop() if len(codes) == 1 else "invalid_filter"
    raise DomainError("Invalid parameter(s): " + ", ".join(sorted(errors)) + ".", code=code, errors=errors)


def _date_time(name: str, raw: str, zone: zoneinfo.ZoneInfo | None, errors: dict) -> dt.datetime | None:
    from thirdlane.api.filters import OFFSET_MESSAGE, _offset_in_range

    try:
        value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        errors.update(_error(name, "invalid_filter", "Give an ISO 8601 date-time, e.g. 2025-03-01T00:00:00Z."))
        return None
    if not 1900 <= value.year <= 2999:
        errors.update(_error(name, "invalid_filter", "Years 1900-2999."))
        return None
    if not _offset_in_range(raw):
        errors.update(_error(name, "invalid_filter", OFFSET_MESSAGE))
        return None
    try:
        if value.tzinfo is None:
            if zone is None:
                return None  # the time zone is wrong: that error is reported
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        errors.update(_error(name, "invalid_filter", "The date-time is out of range."))
        return None


def window_from(*, start=None, end=None, interval: str = "day", tz: str = "UTC",
                now: dt.datetime | None = None, names: tuple[str, str, str, str] = ("start", "end", "interval", "tz"),
                raw: dict | None = None) -> Window:
    """A checked ``Window``. ``start``/``end`` are aware date-times, naive ones (read in ``tz``)
    or ISO strings; missing ones default to the last ``DEFAULT_BUCKETS[interval]`` buckets up to
    the end of the current one."""
    n_start, n_end, n_interval, n_tz = names
    errors: dict = {}
    if interval not in INTERVALS:
        errors.update(_error(n_interval, "invalid_filter", "One of hour, day, week."))
    zone = None
    if not isinstance(tz, str) or tz not in time_zones():
        errors.update(_error(n_tz, "invalid_time_zone", "Not an IANA time zone name (e.g. Europe/Berlin, UTC)."))
    else:
        zone = zoneinfo.ZoneInfo(tz)
    values = {}
    for name, value in ((n_start, start), (n_end, end)):
        if isinstance(value, str):
            value = _date_time(name, value, zone, errors)
        elif isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=zone) if zone else None
            value = value.astimezone(UTC) if value else None
        elif value is not None:
            errors.update(_error(name, "invalid_filter", "Give a date-time."))
            value = None
        values[name] = value
    if errors:
        _raise(errors)
    step_count = DEFAULT_BUCKETS[interval]
    try:
        s, e = values[n_start], values[n_end]
        if e is None:
            if s is not None:
                e = s
                for _ in range(step_count):  # step in the zone: a "day" may be 23 or 25 hours
                    e = _next_bucket(e, interval, zone)
            else:
                e = _next_bucket(now or dt.datetime.now(UTC), interval, zone)
        if s is None:
            s = e
            for _ in range(step_count):
                s = bucket_start(s - dt.timedelta(microseconds=1), interval, zone)
    except (OverflowError, ValueError):
        _raise(_error(n_start if values[n_start] else n_end, "invalid_filter", "The date-time is out of range."))
    if e <= s:
        _raise(_error(n_end, "invalid_range", "The end must be after the start."))
    window = Window(s, e, interval, tz)
    try:
        count = bucket_count(window)
    except (OverflowError, ValueError):
        count = MAX_BUCKETS + 1
    if count > MAX_BUCKETS:
        _raise(_error(n_end, "range_too_long",
                      f"The range holds {count} {interval} intervals; at most {MAX_BUCKETS} are allowed."))
    return window


def _next_bucket(value: dt.datetime, interval: str, zone) -> dt.datetime:
    """The start of the bucket after the one holding ``value``."""
    first = bucket_start(value, interval, zone)
    if interval == "hour":
        return first + STEP["hour"]
    local = first.astimezone(zone).date() + STEP[interval]
    return dt.datetime.combine(local, dt.time(), zone).astimezone(UTC)


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    if raw not in ("true", "false"):
        _raise(_error(name, "invalid_filter", "Give true or false."))
    return raw == "true"


def parse_text(name: str, raw: str | None, *, max_length: int) -> str | None:
    if raw is None:
        return None
    if not raw or len(raw) > max_length:
        _raise(_error(name, "invalid_filter", f"1 to {max_length} characters."))
    return raw


def parse_int(name: str, raw: str | None, *, default: int, lo: int, hi: int) -> int:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not lo <= int(raw) <= hi:
        _raise(_error(name, "invalid_filter", f"A whole number from {lo} to {hi}."))
    return int(raw)


def query_window(query_params, *, allowed: set[str], default_tz: str, now=None) -> Window:
    """The window of an API request; unknown parameters are refused first."""
    reject_unknown_params(query_params, allowed | {"interval", "start", "end", "tz", "limit", "offset"})
    repeated = [name for name in query_params if name != "format" and len(query_params.getlist(name)) > 1]
    if repeated:
        _raise({name: [{"code": "invalid_filter", "message": "Give this parameter once."}] for name in repeated})
    single = {}
    for name in ("interval", "start", "end", "tz"):
        values = query_params.getlist(name)
        if len(values) > 1:
            _raise(_error(name, "invalid_filter", "Give this parameter once."))
        single[name] = values[0] if values else None
    for name in ("start", "end"):
        if single[name] == "":
            _raise(_error(name, "invalid_filter", "An empty value is not a date-time."))
    return window_from(start=single["start"], end=single["end"], interval=single["interval"] or "day",
                       tz=default_tz if single["tz"] is None else single["tz"], now=now)
