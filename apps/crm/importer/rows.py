"""One CSV row in, one staged row (or the reasons it was refused) out.

``RowCompiler`` turns a column map into a flat list of per-cell steps once, so the per-row loop
does no lookups: check the width, find the row's country (phones are read with it), then for
each mapped cell trim, apply the transforms and convert (E.164 phones through a cache, e-mails,
booleans, custom field types).

A cell that looks like a spreadsheet formula (``=HYPERLINK(...)``) is data: it is stored as
written, and every export neutralises it (``thirdlane.csvsafe``). A cell the portal itself
neutralised on export (``'=...``) is read back without the apostrophe.
"""
from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from apps.crm import customfields
from apps.crm.importer.mapping import PHONE_FIELDS
from apps.crm.countries import region_in_address, region_of
from apps.crm.phones import PhoneError, PhoneNormalizer
from thirdlane.csvsafe import unneutralise

# (column, postgres type) of the temp table rows are copied into; None = "not given".
STAGE_COLUMNS: list[tuple[str, str]] = [
    ("row_no", "int4"), ("line_no", "int4"),
    ("first_name", "text"), ("last_name", "text"), ("title", "text"), ("email", "text"), ("other_email", "text"),
    ("phone", "text"), ("mobile", "text"), ("work_phone", "text"), ("street", "text"), ("city", "text"),
    ("region", "text"), ("postal_code", "text"), ("country", "text"), ("account_name", "text"), ("owner", "text"),
    ("tags", "text[]"), ("source", "text"), ("external_id", "text"), ("shared_in_directory", "bool"),
    ("notes", "text"), ("custom", "jsonb"), ("phone_key", "text"),
    ("account_id", "int8"),  # filled by the writer (pipelined jobs), not by the row rules
]
SLOT = {name: i for i, (name, _) in enumerate(STAGE_COLUMNS)}
_FIRST, _LAST, _EMAIL, _PHONE, _MOBILE, _WORK = (SLOT[n] for n in ("first_name", "last_name", "email", "phone",
                                                                   "mobile", "work_phone"))
_ACCOUNT, _EXTERNAL, _CUSTOM, _PHONE_KEY = (SLOT[n] for n in ("account_name", "external_id", "custom", "phone_key"))
_WIDTH = len(STAGE_COLUMNS)
# How a step turns a cell into a value: a length check inline (plain text), a converter, the
# full name split in two, or a custom field value.
TEXT, CONVERT, FULL_NAME, CUSTOM = range(4)
_MISSING = object()
TARGET_SLOT = {"account": SLOT["account_name"]}
MAX_LENGTH = {"first_name": 100, "last_name": 100, "title": 100, "email": 254, "other_email": 254, "street": 200,
              "city": 100, "region": 100, "postal_code": 20, "account": 200, "owner": 150, "source": 100,
              "external_id": 100, "notes": 10000}
PHONE_LIST = re.compile(r"\s*(?::{2,}|[;,|\n]|\s/\s|\s+(?:or|and|oder|ou|o)\s+)\s*", re.IGNORECASE)


class _Refused(NamedTuple):
    """A cached answer that is an error (its message and code)."""

    message: str
    code: str


class CellError(ValueError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _email(value: str) -> str:
    try:
        return customfields.parse_email(value)
    except customfields.CustomValueError as exc:
        raise CellError(str(exc), "invalid_email") from None


def _country(value: str) -> str:
    code = region_of(value)
    if code is None:
        raise CellError(f"{value!r} is not a country: give an ISO 3166 code (such as US, GB, DE) or a country "
                        "name.", "invalid_country")
    return code


def _tags(value: str) -> list[str]:
    tags = []
    for tag in re.split(r"[;,|]", value):
        tag = tag.strip()
        if tag and tag not in tags:
            if len(tag) > 50:
                raise CellError(f"Tag {tag[:20]!r}... is longer than 50 characters.", "too_long")
            tags.append(tag)
    return tags


def _bool(value: str) -> bool:
    try:
        return customfields.parse_bool(value)
    except customfields.CustomValueError as exc:
        raise CellError(str(exc), "invalid_boolean") from None


def split_name(value: str) -> tuple[str, str]:
    """'Ada Lovelace' -> ('Ada', 'Lovelace'); 'Lovelace, Ada' -> ('Ada', 'Lovelace'); 'Cher' -> ('Cher', '')."""
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    parts = value.rsplit(" ", 1)
    return (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else (value, "")


_CASE = {"lower": str.lower, "upper": str.upper, "title": str.title,
         "collapse_spaces": lambda v: " ".join(v.split())}


class RowCompiler:
    def __init__(self, headers: list[str], columns: dict[str, dict], custom_defs, region: str):
        self.headers = headers
        self.width = len(headers)
        self.phones = PhoneNormalizer(region)
        self.region = region
        defs = {d.name: d for d in custom_defs}
        self.required_custom = [d for d in custom_defs if d.required]
        self.unique_custom = [d.name for d in custom_defs if d.unique]
        position = {h: i for i, h in enumerate(headers)}
        self.steps = []
        self.full_name_step = None
        # Where a row says its country: the mapped country column, else the end of an address.
        self.country_idx = next((position[h] for h, spec in columns.items()
                                 if spec.get("field") == "country" and h in position), None)
        self.address_idxs = [position[h] for h, spec in columns.items()
                             if spec.get("field") in ("street", "city", "region", "postal_code") and h in position]
        self._regions: dict[str, str | None] = {}
        self.row_region, self._row_gave_region = self.region, False
        for header, spec in columns.items():
            target = spec.get("field") or ""
            if not target or header not in position:
                continue
            idx = position[header]
            ops = [_CASE[t] for t in spec.get("transforms", []) if t in _CASE]
            default = spec.get("default", "") or ""
            limit = 0
            if target.startswith("cf:"):
                field = defs[target[3:]]
                kind, slot, convert = CUSTOM, target[3:], self._custom(field, spec.get("date_format", ""))
            elif target == "full_name":
                kind, slot, convert = FULL_NAME, -1, None
            else:
                kind, slot = CONVERT, TARGET_SLOT.get(target, SLOT.get(target))
                if target in PHONE_FIELDS:
                    convert = self._phone
                elif target in ("email", "other_email"):
                    convert = _email
                elif target == "country":
                    convert = self._country
                elif target == "tags":
                    convert = _tags
                elif target == "shared_in_directory":
                    convert = _bool
                else:
                    kind, convert, limit = TEXT, None, MAX_LENGTH.get(target, 1000)
            self.steps.append((idx, header, target, kind, slot, tuple(ops), convert, default, limit))
        self._countries: dict[str, str | _Refused] = {}
        self._normalizers: dict[str, PhoneNormalizer] = {}
        self._json: dict[tuple, str] = {}

    def region_for(self, cells: list[str]) -> tuple[str, bool]:
        """The region national phones of this row are read with, and whether the row gave it."""
        regions = self._regions
        if self.country_idx is not None:
            cell = cells[self.country_idx]
            if cell:
                region = regions.get(cell)
                if region is None and cell not in regions:
                    region = regions[cell] = region_of(cell)
                if region is not None:
                    return region, True
        for idx in self.address_idxs:
            cell = cells[idx]
            if cell and ("," in cell or "\n" in cell or self.country_idx is None):
                key = "\0" + cell
                region = regions.get(key)
                if region is None and key not in regions:
                    region = regions[key] = region_in_address(cell)
                    if len(regions) > 100_000:
                        regions.clear()
                if region is not None:
                    return region, True
        return self.region, False

    def _country(self, value: str) -> str:
        """``_country`` with the answers (codes and errors) kept per cell value."""
        found = self._countries.get(value)
        if found is None:
            try:
                found = _country(value)
            except CellError as exc:
                found = _Refused(str(exc), exc.code)
            if len(self._countries) >= 10_000:
                self._countries.clear()
            self._countries[value] = found
        if found.__class__ is _Refused:  # a new error each time: a re-raised one would grow its traceback
            raise CellError(found.message, found.code)
        return found

    def _phone(self, value: str) -> str:
        region = self.row_region
        normalizer = self._normalizers.get(region)
        if normalizer is None:  # what ``self.phones(value, region)`` dispatches to, found once per region
            normalizer = self._normalizers[region] = (self.phones if region == self.phones.region
                                                      else self.phones.for_region(region))
        try:
            return normalizer(value)
        except PhoneError as exc:
            numbers = self._phone_list(value, region)
            if numbers:
                raise CellError(f"The cell holds {len(numbers)} phone numbers ({', '.join(numbers)}); give one "
                                "number per column (phone, mobile, work phone).", "multiple_phones") from None
            source = ("the row's country" if self._row_gave_region else
                      "the tenant's default region, as the row names no country")
            raise CellError(f"{exc} Region {region} is {source}.", "invalid_phone") from None

    def _phone_list(self, value: str, region: str) -> list[str]:
        """Two or more numbers in one cell ("+1 415-555-2671 ::: +1 415-555-2672"), each valid."""
        parts = [p for p in PHONE_LIST.split(value) if p and p.strip()]
        if len(parts) < 2:
            return []
        try:
            return [self.phones(p.strip(), region) for p in parts]
        except PhoneError:
            return []

    def _custom(self, field, date_format: str):
        def convert(value: str) -> Any:
            try:
                return customfields.coerce(field, value, region=self.row_region, date_format=date_format)
            except customfields.CustomValueError as exc:
                raise CellError(str(exc), "invalid_custom_field") from None
        if field.field_type not in (customfields.FT.CHOICE, customfields.FT.BOOLEAN):
            return convert
        # A choice or yes/no value depends on the cell alone: keep the few answers there are.
        answers: dict[str, Any] = {}

        def cached(value: str) -> Any:
            found = answers.get(value, _MISSING)
            if found is _MISSING:
                try:
                    found = convert(value)
                except CellError as exc:
                    found = _Refused(str(exc), exc.code)
                if len(answers) >= 1000:
                    answers.clear()
                answers[value] = found
            if found.__class__ is _Refused:  # a new error each time: a re-raised one would grow its traceback
                raise CellError(found.message, found.code)
            return found
        return cached

    def _custom_json(self, custom: dict) -> str:
        """The ``custom`` column's JSON, kept per content: most files repeat a few combinations."""
        try:  # the type is part of the key: 1, 1.0 and True are equal in Python, not in JSON
            key = tuple((name, type(value), value) for name, value in custom.items())
            text = self._json.get(key)
        except TypeError:  # a list (multi-choice): not kept
            return json.dumps(custom, ensure_ascii=False)
        if text is None:
            text = json.dumps(custom, ensure_ascii=False)
            if len(self._json) >= 10_000:
                self._json.clear()
            self._json[key] = text
        return text

    def process(self, cells: list[str], row_no: int, line_no: int) -> tuple[list | None, list[dict]]:
        if len(cells) != self.width:
            if len(cells) > self.width and not any(c.strip() for c in cells[self.width:]):
                cells = cells[:self.width]  # trailing empty cells (a stray delimiter at the end)
            else:
                what = "more" if len(cells) > self.width else "fewer"
                return None, [{"column": "", "field": "", "code": "wrong_column_count",
                               "message": f"The row has {len(cells)} columns, {what} than the header's "
                                          f"{self.width}. Check for an unquoted delimiter or a missing value."}]
        values: list = [None] * _WIDTH
        values[0] = row_no
        values[1] = line_no
        errors: list[dict] | None = None
        custom: dict | None = None
        self.row_region, self._row_gave_region = self.region_for(cells)
        for idx, header, target, kind, slot, ops, convert, default, limit in self.steps:
            value = cells[idx].strip()
            if not value:
                if not default:
                    continue
                value = default
            elif value[0] == "'":
                value = unneutralise(value)
            for op in ops:
                value = op(value)
            if kind == TEXT:
                if len(value) > limit:
                    if errors is None:
                        errors = []
                    errors.append({"column": header, "field": target, "code": "too_long",
                                   "message": f"Longer than {limit} characters ({len(value)})."})
                else:
                    values[slot] = value
                continue
            if kind == FULL_NAME:
                first, last = split_name(value)
                values[_FIRST], values[_LAST] = first[:100] or None, last[:100] or None
                continue
            try:
                converted = convert(value)
            except CellError as exc:
                if errors is None:
                    errors = []
                errors.append({"column": header, "field": target, "code": exc.code, "message": str(exc)})
                continue
            if kind == CUSTOM:
                if converted is not None:
                    if custom is None:
                        custom = {}
                    custom[slot] = converted
            else:
                values[slot] = converted
        if errors:
            return None, errors
        if custom is not None:
            values[_CUSTOM] = self._custom_json(custom)
        phone_key = values[_PHONE] or values[_MOBILE] or values[_WORK]
        values[_PHONE_KEY] = phone_key
        if not (values[_FIRST] or values[_LAST] or values[_EMAIL] or phone_key or values[_ACCOUNT]
                or values[_EXTERNAL]):
            return None, [{"column": "", "field": "", "code": "empty_row",
                           "message": "The row has no name, e-mail, phone, company or external id."}]
        return values, []
