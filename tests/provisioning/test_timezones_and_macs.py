"""Time zones in phones' terms (from the tz database's POSIX rules) and MAC spellings."""
import pytest

from apps.provisioning.macs import normalize
from apps.provisioning.timezones import parse_posix, phone_time_zone


@pytest.mark.parametrize("name,posix,offset,yealink,start,end", [
    ("America/New_York", "EST5EDT,M3.2.0,M11.1.0", -18000, "-5", "3/2/7/2", "11/1/7/2"),
    ("Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3", 3600, "+1", "3/5/7/2", "10/5/7/3"),
    ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3", 36000, "+10", "10/1/7/2", "4/1/7/3"),
    ("Asia/Kolkata", "IST-5:30", 19800, "+5:30", None, None),
    ("UTC", "UTC0", 0, "+0", None, None),
])
def test_zones_from_the_tz_database(name, posix, offset, yealink, start, end):
    tz = phone_time_zone(name)
    assert (tz.posix, tz.offset, tz.yealink_offset) == (posix, offset, yealink)
    assert (tz.start.yealink if tz.start else None, tz.end.yealink if tz.end else None) == (start, end)


def test_quoted_names_become_letters_phones_parse():
    tz = phone_time_zone("Asia/Dubai")  # "<+04>-4" in the tz database
    assert tz.posix == "STD-4" and tz.offset == 14400 and not tz.dst


def test_polycom_day_numbers():
    tz = phone_time_zone("America/New_York")
    assert (tz.start.polycom_day_of_week, tz.start.polycom_date, tz.start.last_in_month) == (1, 8, 0)  # 2nd Sunday
    assert (tz.end.polycom_date, tz.end.hour) == (1, 2)
    berlin = phone_time_zone("Europe/Berlin")
    assert berlin.start.last_in_month == 1 and berlin.dst_minutes == 60


def test_rules_phones_cannot_express_fall_back_to_standard_time():
    tz = parse_posix("X/Julian", "ABC-2DEF,J60,J300")
    assert not tz.dst and tz.posix == "ABC-2" and tz.offset == 7200


def test_unknown_zone_names_are_utc():
    assert phone_time_zone("Mars/Olympus").posix == "UTC0"
    assert phone_time_zone("../../etc/passwd").posix == "UTC0"


@pytest.mark.parametrize("value,expected", [
    ("00:15:65:AB:CD:EF", "001565abcdef"), ("0015.65ab.cdef", "001565abcdef"), ("00-15-65-ab-cd-ef", "001565abcdef"),
    (" 001565ABCDEF ", "001565abcdef"), ("001565abcde", None), ("01:00:5e:00:00:01", None), ("", None), (None, None),
])
def test_mac_spellings(value, expected):
    assert normalize(value) == expected
