"""Cron schedules in a time zone: five fields, evaluated in the schedule's zone (so "0 2 * * *" is
02:00 local, also across daylight-saving changes), next time returned in UTC."""
from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone

from croniter import CroniterBadCronError, croniter

from thirdlane.api.errors import Invalid


def validate(expression: str, tz: str) -> None:
    fields = (expression or "").split()
    if len(fields) != 5:
        raise Invalid("Five fields: minute hour day-of-month month day-of-week (e.g. `0 2 * * *`).", field="cron")
    try:
        croniter(expression)
    except (CroniterBadCronError, ValueError, KeyError) as exc:
        raise Invalid(f"Not a cron expression: {exc}.", field="cron") from None
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{tz!r} is not an IANA time zone.", field="timezone") from None


def next_run(expression: str, tz: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` the expression matches in ``tz`` (UTC)."""
    local = after.astimezone(zoneinfo.ZoneInfo(tz))
    return croniter(expression, local).get_next(datetime).astimezone(timezone.utc)
