"""A tenant's IANA time zone in the forms phones take: a POSIX TZ rule and its parts.

Phones do not know IANA names. Grandstream takes a POSIX TZ string ("self-defined time zone");
Yealink and Polycom take the standard offset and the daylight-saving rule as month / week /
weekday / hour. All of them come from one place: the POSIX rule at the end of the zone's TZif
file (RFC 8536, the "footer" that says how the zone behaves after its last transition), from
the system's tz database or the ``tzdata`` package. A zone whose rule is not of the
``Mm.w.d`` kind (rare) is sent without daylight saving rather than wrong.
"""
from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Change:
    """A daylight-saving change: the ``d``-th weekday (0 = Sunday) of week ``week`` (5 = last)
    of ``month``, at ``seconds`` after local midnight (may be negative or past 24 h)."""

    month: int
    week: int
    weekday: int
    seconds: int

    @property
    def hour(self) -> int:
        return min(max(self.seconds // 3600, 0), 23)

    @property
    def yealink(self) -> str:
        """Month/Week of Month/Day of Week/Hour (day of week 1 = Monday ... 7 = Sunday)."""
        return f"{self.month}/{self.week}/{self.weekday or 7}/{self.hour}"

    @property
    def polycom_day_of_week(self) -> int:
        return self.weekday + 1  # 1 = Sunday ... 7 = Saturday

    @property
    def polycom_date(self) -> int:
        """With fixedDayEnable=0 the change is on that weekday on or after this date."""
        return (self.week - 1) * 7 + 1 if self.week < 5 else 1

    @property
    def last_in_month(self) -> int:
        return 1 if self.week == 5 else 0


@dataclass(frozen=True)
class PhoneTimeZone:
    name: str
    posix: str  # for Grandstream's self-defined time zone (P246), names made plain letters
    offset: int  # standard time, seconds east of UTC
    dst_offset: int | None  # seconds east of UTC in summer, or None
    start: Change | None
    end: Change | None

    @property
    def dst(self) -> bool:
        return self.start is not None

    @property
    def yealink_offset(self) -> str:
        """``+1``, ``-5``, ``+5:30``, ``+0``."""
        sign = "-" if self.offset < 0 else "+"
        hours, rest = divmod(abs(self.offset), 3600)
        return f"{sign}{hours}" + (f":{rest // 60:02d}" if rest else "")

    @property
    def dst_minutes(self) -> int:
        return (self.dst_offset - self.offset) // 60 if self.dst_offset is not None else 0


UTC = PhoneTimeZone("UTC", "UTC0", 0, None, None, None)

# name, offset, [name, [offset]], [,start[/time],end[/time]]
_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+\-]{3,}>)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
_POSIX = re.compile(rf"^(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
                    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?(?:,(?P<start>[^,]+),(?P<end>[^,]+))?)?$")
_RULE = re.compile(rf"^M(?P<m>\d{{1,2}})\.(?P<w>[1-5])\.(?P<d>[0-6])(?:/(?P<t>{_OFFSET}))?$")


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _change(rule: str) -> Change | None:
    match = _RULE.match(rule)
    if not match or not 1 <= int(match["m"]) <= 12:
        return None
    return Change(int(match["m"]), int(match["w"]), int(match["d"]),
                  _seconds(match["t"]) if match["t"] else 2 * 3600)


def parse_posix(name: str, posix: str) -> PhoneTimeZone:
    match = _POSIX.match(posix.strip())
    if not match:
        return UTC
    offset = -_seconds(match["stdoff"])  # POSIX offsets count hours west of UTC
    start = end = dst_offset = None
    if match["dst"]:
        dst_offset = -_seconds(match["dstoff"]) if match["dstoff"] else offset + 3600
        start, end = (_change(match["start"]), _change(match["end"])) if match["start"] else \
            (Change(3, 2, 0, 7200), Change(11, 1, 0, 7200))  # POSIX's default rule (US)
        if start is None or end is None:
            start = end = dst_offset = None
    # "<+04>-4": quoted numeric names, which phones do not parse; they get plain letters.
    std_name = "STD" if match["std"].startswith("<") else match["std"]
    plain = std_name + match["stdoff"]
    if start is not None:
        dst_name = "DST" if match["dst"].startswith("<") else match["dst"]
        plain += dst_name + (match["dstoff"] or "") + (f",{match['start']},{match['end']}" if match["start"] else "")
    return PhoneTimeZone(name, plain, offset, dst_offset, start, end)


def _footer(data: bytes) -> str | None:
    """The POSIX rule on the last line of a TZif version 2+ file."""
    if not data.startswith(b"TZif") or data[4:5] not in (b"2", b"3", b"4") or not data.endswith(b"\n"):
        return None
    start = data.rfind(b"\n", 0, len(data) - 1)
    return data[start + 1:-1].decode("ascii", "replace") if start >= 0 else None


def _tzif(name: str) -> bytes | None:
    if not re.fullmatch(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", name):
        return None
    for root in zoneinfo.TZPATH:
        path = Path(root) / name
        if path.is_file():
            return path.read_bytes()
    try:  # the tzdata package, where the system has no tz database
        from importlib import resources

        package, _, leaf = f"tzdata.zoneinfo.{name.replace('/', '.')}".rpartition(".")
        return resources.files(package).joinpath(leaf).read_bytes()
    except (ImportError, FileNotFoundError, ModuleNotFoundError, OSError):
        return None


@lru_cache(maxsize=512)
def phone_time_zone(name: str) -> PhoneTimeZone:
    """The zone for phones; UTC for an unknown name."""
    data = _tzif(name or "UTC")
    footer = _footer(data) if data else None
    if not footer:
        return UTC if name in ("", "UTC") else PhoneTimeZone(name, "UTC0", 0, None, None, None)
    return parse_posix(name, footer)
