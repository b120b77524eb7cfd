"""Phone numbers in E.164, read with a region (``phonenumbers``): the contact's country, else the
tenant's default region.

``PhoneNormalizer`` is what imports use; parsing is the most expensive thing done per row, so:
- answers are cached per raw string (files repeat switchboard numbers);
- for tenants in the North American Numbering Plan, plainly formatted 10/11-digit numbers
  ("(415) 555-0100", "+1 415 555 0100", "1-415-555-0100") skip the general parser: the digits
  are the national number, and validity is asked of ``phonenumbers`` once per 6-digit prefix
  (area code + exchange). Validity there does not depend on the last four digits (NANP
  metadata patterns end in free digits; tests/crm/test_phones.py checks the fast path against
  ``to_e164`` on random numbers). Anything else goes through ``to_e164``.
"""
from __future__ import annotations

import re

import phonenumbers

_E164 = phonenumbers.PhoneNumberFormat.E164


class PhoneError(ValueError):
    pass


def to_e164(raw: str, region: str = "US") -> str:
    """``'(415) 555-0100'`` with region US -> ``'+14155550100'``. Empty stays empty.

    Raises ``PhoneError`` with a message fit for an end user when the number is not valid.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or "US")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"{raw!r} is not a phone number ({_reason(exc)}; read with region {region or 'US'}).") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{raw!r} is not a valid phone number for region {region or 'US'} "
                         "(give it in international format, e.g. +44 20 7946 0000).")
    return phonenumbers.format_number(number, _E164)


def _reason(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "unreadable")


_PLAIN = re.compile(r"^\+?[\d\s().\-]{10,20}$")
_SEPARATORS = str.maketrans("", "", " ().-/\t\u00a0")
# The number types phonenumbers' is_valid_number tries, the common ones first.
_DESCS = ("mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number", "pager",
          "uan", "voicemail")


class _Region:
    """What the fast path needs of one region's metadata: its country code, the national prefix
    (only where phonenumbers strips nothing else, no carrier codes or transform rules), and each
    number type's pattern, compiled once, with its possible lengths."""

    def __init__(self, region: str):
        from phonenumbers.phonenumberutil import PhoneMetadata

        meta = PhoneMetadata.metadata_for_region(region)
        self._by_length: dict[int, tuple] = {}
        self.ok = meta is not None
        if not self.ok:
            return
        self.cc = str(meta.country_code)
        prefix, parsing = meta.national_prefix, meta.national_prefix_for_parsing
        # phonenumbers strips what national_prefix_for_parsing matches at the start; a match that
        # captures a group (a carrier code, a transform) is left to it.
        pattern = parsing or (re.escape(prefix) if prefix else None)
        self.strip = re.compile(pattern).match if pattern else None
        self.general = self._desc(meta.general_desc)
        self.types = [d for d in (self._desc(getattr(meta, name)) for name in _DESCS) if d is not None]
        self.ok = self.ok and self.general is not None

    @staticmethod
    def _desc(desc):
        if desc is None or not desc.national_number_pattern:
            return None
        return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern).fullmatch

    def valid(self, nsn: str) -> bool:
        """The general pattern, then one number type's, each only where its possible lengths allow
        this length (the patterns to try are worked out once per length)."""
        n = len(nsn)
        patterns = self._by_length.get(n)
        if patterns is None:
            lengths, general = self.general
            patterns = self._by_length[n] = () if lengths and n not in lengths else (
                general, tuple(match for lengths, match in self.types if not lengths or n in lengths))
        if not patterns or patterns[0](nsn) is None:
            return False
        for match in patterns[1]:
            if match(nsn) is not None:
                return True
        return False


_regions: dict[str, _Region] = {}
_cc_region: dict[str, str] = {}


def _region_rule(region: str) -> _Region:
    rule = _regions.get(region)
    if rule is None:
        rule = _regions[region] = _Region(region)
    return rule


def fast_e164(raw: str, region: str) -> str | None:
    """E.164 for a plainly written number (digits and separators, national or with +country
    code) that is valid in the region it names, else None: then ``phonenumbers`` decides, so a
    None costs time, never correctness. Mirrors phonenumbers: national prefix stripped when
    the rest is a valid number, validity = the general pattern and one number type's pattern
    with its possible lengths. tests/crm/test_phones_fast.py compares it with ``to_e164``."""
    digits = raw.translate(_SEPARATORS)
    if digits[:1] == "+":
        digits = digits[1:]
        if not digits.isdigit() or not digits.isascii():
            return None
        for size in (1, 2, 3):
            cc = digits[:size]
            home = _cc_region.get(cc)
            if home is None and cc not in _cc_region:
                regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(cc)) if cc.isdigit() else None
                home = _cc_region[cc] = regions[0] if regions else ""
            if home:
                rule = _region_rule(home)
                nsn = digits[size:]
                # Only the country's main region is asked: +44 1481 (Guernsey) goes the slow way.
                if rule.ok and rule.valid(nsn):
                    return "+" + digits
                return None
        return None
    if not digits.isdigit() or not digits.isascii() or digits[:2] == "00":
        return None
    rule = _region_rule(region)
    if not rule.ok or digits.startswith(rule.cc) or (rule.cc == "1" and digits[:3] == "011"):
        return None  # a country code or an international prefix without "+": the parser's call
    found = rule.strip(digits) if rule.strip is not None else None
    if found is None:
        return "+" + rule.cc + digits if rule.valid(digits) else None
    if any(found.groups()) or not rule.valid(digits[found.end():]):
        return None
    return "+" + rule.cc + digits[found.end():]
_NOT_DIGITS = str.maketrans("", "", " ().-+\t\u00a0")


class PhoneNormalizer:
    """``to_e164`` with a NANP fast path and bounded caches (valid numbers and errors alike).

    ``normalizer(raw)`` reads national numbers with the default region; ``normalizer(raw, "FR")``
    with another one (an import row's country)."""

    def __init__(self, region: str = "US", max_entries: int = 50_000):
        self.region = region or "US"
        self.max_entries = max_entries
        self._cache: dict[str, str | PhoneError] = {}
        self._others: dict[str, PhoneNormalizer] = {}
        self._nanp = phonenumbers.country_code_for_region(self.region) == 1
        self._prefix_valid: dict[str, bool] = {}

    def for_region(self, region: str) -> "PhoneNormalizer":
        other = self._others.get(region)
        if other is None:
            other = self._others[region] = PhoneNormalizer(region, max(1000, self.max_entries // 10))
        return other

    def fast(self, raw: str) -> str | None:
        """E.164 for a plainly written NANP number, or None (then the general parser decides)."""
        if not self._nanp or not _PLAIN.match(raw) or "+" in raw[1:]:
            return None
        digits = raw.translate(_NOT_DIGITS)
        if not digits.isdigit():
            return None
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        elif len(digits) != 10 or raw[0] == "+":
            return None
        if digits[0] in "01" or digits[3] in "01":
            return None
        prefix = digits[:6]
        valid = self._prefix_valid.get(prefix)
        if valid is None:
            valid = phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1,
                                                                          national_number=int(digits)))
            self._prefix_valid[prefix] = valid
        return "+1" + digits if valid else None

    def __call__(self, raw: str, region: str | None = None) -> str:
        if region is not None and region != self.region:
            return self.for_region(region)(raw)
        hit = self._cache.get(raw)
        if hit is None:
            hit = self.fast(raw) or fast_e164(raw, self.region)
            if hit is not None:
                return hit
            try:
                hit = to_e164(raw, self.region)
            except PhoneError as exc:
                hit = exc
            if len(self._cache) >= self.max_entries:
                self._cache.clear()  # bounded memory whatever the file
            self._cache[raw] = hit
        if isinstance(hit, PhoneError):
            raise hit
        return hit
