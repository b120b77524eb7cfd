"""One CSV row in, one staged row (or the reasons it was refused) out.

``RowCompiler`` turns a column map into a flat list of per-cell steps once, so the per-row loop
does no lookups: check the width, then for each mapped cell trim, refuse a formula, apply the
transforms and convert (E.164 phones through a cache, e-mails, booleans, custom field types).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from apps.crm import customfields
from apps.crm.importer.mapping import PHONE_FIELDS
from apps.crm.phones import PhoneError, PhoneNormalizer
from thirdlane.csvsafe import looks_like_formula

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
TARGET_SLOT = {"account": SLOT["account_name"]}
MAX_LENGTH = {"first_name": 100, "last_name": 100, "title": 100, "email": 254, "other_email": 254, "street": 200,
              "city": 100, "region": 100, "postal_code": 20, "account": 200, "owner": 150, "source": 100,
              "external_id": 100, "notes": 10000}
COUNTRIES = {
    "united states": "US", "united states of america": "US", "usa": "US", "u s a": "US", "america": "US",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT",
    "canada": "CA", "australia": "AU", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
    "belgium": "BE", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "austria": "AT", "österreich": "AT",
    "ireland": "IE", "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL",
    "portugal": "PT", "mexico": "MX", "méxico": "MX", "brazil": "BR", "brasil": "BR", "india": "IN", "japan": "JP",
    "china": "CN", "new zealand": "NZ", "south africa": "ZA",
}
# A cell a spreadsheet would run as a formula. "+" and "-" also start phone numbers and negative
# numbers, which are fine; anything else after them is refused.


class CellError(ValueError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _text(target: str) -> Callable[[str], str]:
    limit = MAX_LENGTH.get(target, 1000)

    def convert(value: str) -> str:
        if len(value) > limit:
            raise CellError(f"Longer than {limit} characters ({len(value)}).", "too_long")
        return value
    return convert


def _email(value: str) -> str:
    try:
        return customfields.parse_email(value)
    except customfields.CustomValueError as exc:
        raise CellError(str(exc), "invalid_email") from None


def _country(value: str) -> str:
    if len(value) == 2 and value.isalpha():
        return value.upper()
    code = COUNTRIES.get(value.strip().lower())
    if code is None:
        raise CellError(f"{value!r} is not an ISO 3166 country code (such as US, GB, DE).", "invalid_country")
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
        for header, spec in columns.items():
            target = spec.get("field") or ""
            if not target or header not in position:
                continue
            idx = position[header]
            ops = [_CASE[t] for t in spec.get("transforms", []) if t in _CASE]
            default = spec.get("default", "") or ""
            if target.startswith("cf:"):
                field = defs[target[3:]]
                convert = self._custom(field, spec.get("date_format", ""))
                slot = -1
            elif target == "full_name":
                convert, slot = None, -2
            else:
                slot = TARGET_SLOT.get(target, SLOT.get(target))
                if target in PHONE_FIELDS:
                    convert = self._phone
                elif target in ("email", "other_email"):
                    convert = _email
                elif target == "country":
                    convert = _country
                elif target == "tags":
                    convert = _tags
                elif target == "shared_in_directory":
                    convert = _bool
                else:
                    convert = _text(target)
            self.steps.append((idx, header, target, slot, ops, convert, default))

    def _phone(self, value: str) -> str:
        try:
            return self.phones(value)
        except PhoneError as exc:
            raise CellError(str(exc), "invalid_phone") from None

    def _custom(self, field, date_format: str):
        region = self.region

        def convert(value: str) -> Any:
            try:
                return customfields.coerce(field, value, region=region, date_format=date_format)
            except customfields.CustomValueError as exc:
                raise CellError(str(exc), "invalid_custom_field") from None
        return convert

    def process(self, cells: list[str], row_no: int, line_no: int) -> tuple[list | None, list[dict]]:
        if len(cells) != self.width:
            if len(cells) > self.width and not any(c.strip() for c in cells[self.width:]):
                cells = cells[:self.width]  # trailing empty cells (a stray delimiter at the end)
            else:
                what = "more" if len(cells) > self.width else "fewer"
                return None, [{"column": "", "field": "", "code": "wrong_column_count",
                               "message": f"The row has {len(cells)} columns, {what} than the header's "
                                          f"{self.width}. Check for an unquoted delimiter or a missing value."}]
        values: list = [None] * len(STAGE_COLUMNS)
        values[0] = row_no
        values[1] = line_no
        errors: list[dict] = []
        custom: dict | None = None
        for idx, header, target, slot, ops, convert, default in self.steps:
            value = cells[idx].strip()
            if not value:
                if not default:
                    continue
                value = default
            if looks_like_formula(value):
                errors.append({"column": header, "field": target, "code": "formula",
                               "message": f"{value[:40]!r} starts with {value[0]!r} and would run as a spreadsheet "
                                          "formula; remove the leading character."})
                continue
            for op in ops:
                value = op(value)
            if slot == -2:
                first, last = split_name(value)
                values[SLOT["first_name"]], values[SLOT["last_name"]] = first[:100] or None, last[:100] or None
                continue
            try:
                converted = convert(value)
            except CellError as exc:
                errors.append({"column": header, "field": target, "code": exc.code, "message": str(exc)})
                continue
            if slot == -1:
                if converted is not None:
                    if custom is None:
                        custom = {}
                    custom[target[3:]] = converted
            else:
                values[slot] = converted
        if errors:
            return None, errors
        if custom is not None:
            values[SLOT["custom"]] = json.dumps(custom, ensure_ascii=False)
        phone_key = values[SLOT["phone"]] or values[SLOT["mobile"]] or values[SLOT["work_phone"]]
        values[SLOT["phone_key"]] = phone_key
        if not (values[SLOT["first_name"]] or values[SLOT["last_name"]] or values[SLOT["email"]] or phone_key
                or values[SLOT["account_name"]] or values[SLOT["external_id"]]):
            return None, [{"column": "", "field": "", "code": "empty_row",
                           "message": "The row has no name, e-mail, phone, company or external id."}]
        return values, []
