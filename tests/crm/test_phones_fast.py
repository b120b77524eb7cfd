"""The import's fast phone path gives exactly what phonenumbers gives, or steps aside.

``fast_e164`` answers only for plainly written numbers valid in the region they name; anything
else (None) goes to ``to_e164``. On random numbers of 29 countries in national, international
and E.164 formats (valid and not), every answer it gives must equal ``to_e164``'s, and it must
answer for most valid ones (or it would not be a fast path).
"""
from __future__ import annotations

import random

import phonenumbers
import pytest

from apps.crm.phones import PhoneError, PhoneNormalizer, fast_e164, to_e164

REGIONS = ["DE", "GB", "IN", "IT", "ES", "JP", "BR", "MX", "AR", "AU", "CN", "RU", "NL", "SE", "PL", "ZA", "KR", "TR",
           "CH", "AT", "BE", "IE", "PT", "NZ", "SG", "AE", "US", "CA", "FR"]
KINDS = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
FORMATS = [phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
           phonenumbers.PhoneNumberFormat.E164]


def _slow(raw: str, region: str) -> str | None:
    try:
        return to_e164(raw, region)
    except PhoneError:
        return None


def _random_number(rng: random.Random, region: str, keep_valid: bool) -> str:
    example = phonenumbers.example_number_for_type(region, rng.choice(KINDS))
    nsn = str(example.national_number)
    for _ in range(20):
        tail = rng.randint(2, min(6, len(nsn) - 1))
        candidate = nsn[:-tail] + "".join(rng.choice("0123456789") for _ in range(tail + rng.choice((-1, 0, 0, 1))))
        number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(candidate),
                                          italian_leading_zero=example.italian_leading_zero)
        if not keep_valid or phonenumbers.is_valid_number(number):
            break
    raw = phonenumbers.format_number(number, rng.choice(FORMATS))
    return rng.choice((raw, raw.replace(" ", ""), raw.replace(" ", "-"), raw.replace(" ", ".")))


@pytest.mark.parametrize("keep_valid", [True, False], ids=["valid", "random"])
def test_fast_path_agrees_with_phonenumbers(keep_valid):
    rng = random.Random(20240614 + keep_valid)
    answered = 0
    total = 6000
    for _ in range(total):
        region = rng.choice(REGIONS)
        raw = _random_number(rng, region, keep_valid)
        reading = rng.choice((region, "US", "FR"))  # national numbers read with another region too
        fast = fast_e164(raw, reading)
        if fast is not None:
            answered += 1
            assert fast == _slow(raw, reading), (raw, reading)
    if keep_valid:
        assert answered > total * 0.6


@pytest.mark.parametrize("raw,region,expected", [
    ("065 357 42 88", "FR", "+33653574288"),  # the numbers, read with the row's country
    ("030 901820", "DE", "+4930901820"),
    ("0729 755 2895", "IN", "+917297552895"),
    ("07911 123456", "GB", "+447911123456"),
    ("+33 6 53 57 42 88", "US", "+33653574288"),
    ("(415) 555-2671", "US", "+14155552671"),
    ("0033 6 53 57 42 88", "FR", "+33653574288"),
    ("065 357 42 88", "US", None),
])
def test_examples(raw, region, expected):
    assert _slow(raw, region) == expected
    assert fast_e164(raw, region) in (None, expected)


def test_normalizer_reads_national_numbers_with_the_given_region():
    phones = PhoneNormalizer("US")
    assert phones("030 901820", "DE") == "+4930901820"
    assert phones("06 53 57 42 88", "FR") == "+33653574288"
    assert phones("(415) 555-2671") == "+14155552671"
    with pytest.raises(PhoneError, match="region US"):
        phones("030 901820")
