"""Custom field values: one coercion per field type, shared by the API, the admin and imports.

Values are stored in the object's ``custom`` JSONB column as JSON natives: text/url/email/phone/
choice as strings (phone in E.164, email lower-cased), number as a JSON number, date as
``YYYY-MM-DD``, boolean as true/false, multi-choice as a list of strings.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from apps.crm.models import CustomField
from apps.crm.phones import PhoneError, to_e164
from thirdlane.api.errors import DomainError

FT = CustomField.FieldType
# Django's own rule (RFC 5321 dot-atom local part, a real domain or address literal): no empty
# labels (x..y@, .lead@), no label starting or ending with a hyphen. The API, the admin, custom
# fields and imports all call parse_email, so they refuse exactly the same addresses.
_email_validator = EmailValidator()
# The validator's own compiled regexes, taken out of Django's lazy wrappers once: an address both
# match is one the validator accepts (it checks exactly these two), and every other address still
# goes to the validator, so the rule is the same and the common case skips the proxies (~10 us).
_email_user = EmailValidator.user_regex.match
_email_domain = EmailValidator.domain_regex.match
_url_validator = URLValidator(schemes=["http", "https"])
TRUE_WORDS = {"true", "yes", "y", "1", "on", "x", "t", "oui", "ja", "si"}
FALSE_WORDS = {"false", "no", "n", "0", "off", "", "f", "non", "nein"}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d")


class CustomValueError(ValueError):
    pass


def definitions(object_type: str) -> list[CustomField]:
    """The current tenant's custom fields for one object type (the tenant's schema is active)."""
    return list(CustomField.objects.filter(object_type=object_type))


def parse_date(value: Any, date_format: str = "") -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for fmt in ((date_format,) if date_format else DATE_FORMATS):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    expected = date_format or "YYYY-MM-DD"
    raise CustomValueError(f"{text!r} is not a date in the format {expected}.")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CustomValueError(f"{value!r} is not yes/no (use true/false, yes/no or 1/0).")


def parse_email(value: Any) -> str:
    """An e-mail address as stored (lower-cased), or ``CustomValueError``. The one e-mail rule."""
    text = str(value).strip().lower()
    if len(text) > 254 or "@" not in text:
        raise CustomValueError(f"{value!r} is not a valid e-mail address.")
    user, _, domain = text.rpartition("@")
    if _email_user(user) and _email_domain(domain):
        return text
    try:
        _email_validator(text)
    except ValidationError:
        raise CustomValueError(f"{value!r} is not a valid e-mail address.") from None
    return text


def parse_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise CustomValueError(f"{value!r} is not a number.")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "")
        # 1,234.5 and 1.234,5 both appear in real exports. A lone comma is a decimal comma
        # ("2,5"), unless exactly three digits follow it ("1,250" is one thousand two hundred and fifty).
        if "," in text and "." in text:
            text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
        elif "," in text:
            if text.count(",") == 1 and not re.fullmatch(r"-?\d{1,3},\d{3}", text):
                text = text.replace(",", ".")
            else:
                text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CustomValueError(f"{value!r} is not a number.") from None
        number = int(number) if number == number.to_integral_value() and abs(number) < 2 ** 53 else float(number)
    if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
        raise CustomValueError(f"{value!r} is not a number.")
    return number


def coerce(field: CustomField, value: Any, *, region: str = "US", date_format: str = "") -> Any:
    """A value as stored, or ``CustomValueError``. ``None`` and "" mean "no value"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = field.field_type
    if kind == FT.TEXT:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise CustomValueError("Expected text.")
        text = str(value)
        if len(text) > 1000:
            raise CustomValueError("Text is longer than 1000 characters.")
        return text
    if kind == FT.NUMBER:
        return parse_number(value)
    if kind == FT.DATE:
        return parse_date(value, date_format)
    if kind == FT.BOOLEAN:
        return parse_bool(value)
    if kind == FT.CHOICE:
        text = str(value).strip()
        match = _choice(field, text)
        if match is None:
            raise CustomValueError(f"{text!r} is not one of: {', '.join(field.choices)}.")
        return match
    if kind == FT.MULTI_CHOICE:
        items = value if isinstance(value, list) else [v for v in re.split(r"[;|,]", str(value))]
        out = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            match = _choice(field, text)
            if match is None:
                raise CustomValueError(f"{text!r} is not one of: {', '.join(field.choices)}.")
            if match not in out:
                out.append(match)
        return out or None
    if kind == FT.URL:
        text = str(value).strip()
        if "://" not in text:
            text = "https://" + text
        try:
            _url_validator(text)
        except ValidationError:
            raise CustomValueError(f"{value!r} is not a valid URL.") from None
        return text
    if kind == FT.EMAIL:
        return parse_email(value)
    if kind == FT.PHONE:
        try:
            return to_e164(str(value), region)
        except PhoneError as exc:
            raise CustomValueError(str(exc)) from None
    raise CustomValueError(f"Unknown field type {kind!r}.")


def _choice(field: CustomField, text: str) -> str | None:
    for choice in field.choices:
        if choice == text or choice.lower() == text.lower():
            return choice
    return None


def clean_custom(*, object_type: str, model, values: dict | None, instance=None, region: str = "US",
                 partial: bool = False, definitions_: list[CustomField] | None = None) -> dict:
    """Validate ``values`` for one object and return the whole ``custom`` dict to store.

    Given keys replace the instance's values (``null`` removes one); unknown keys, bad values,
    missing required fields and duplicates of unique fields are 400s naming the field.
    """
    defs = {d.name: d for d in (definitions_ if definitions_ is not None else definitions(object_type))}
    values = values or {}
    if not isinstance(values, dict):
        raise DomainError("custom must be an object of field name to value.", code="invalid_custom_field",
                          field="custom")
    errors: dict[str, list] = {}
    result = dict(instance.custom or {}) if instance is not None and instance.pk else {}
    for name, raw in values.items():
        field = defs.get(name)
        if field is None:
            errors.setdefault(f"custom.{name}", []).append(
                {"code": "unknown_custom_field", "message": f"No custom field {name!r} on {object_type}s."})
            continue
        try:
            value = coerce(field, raw, region=region)
        except CustomValueError as exc:
            errors.setdefault(f"custom.{name}", []).append({"code": "invalid_custom_field", "message": str(exc)})
            continue
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    for name, field in defs.items():
        if field.required and result.get(name) in (None, "", []) and not (partial and name not in values
                                                                          and instance is not None and instance.pk):
            errors.setdefault(f"custom.{name}", []).append(
                {"code": "required", "message": f"{field.label} is required."})
        if field.unique and name in values and result.get(name) is not None:
            clash = model.objects.filter(custom__contains={name: result[name]})
            if instance is not None and instance.pk:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors.setdefault(f"custom.{name}", []).append(
                    {"code": "duplicate", "message": f"Another {object_type} already has {field.label} "
                                                     f"{result[name]!r}."})
    if errors:
        code = "unknown_custom_field" if all(e[0]["code"] == "unknown_custom_field" for e in errors.values()) \
            else "invalid_custom_field"
        raise DomainError("Invalid custom field values: " + ", ".join(sorted(errors)) + ".", code=code, errors=errors)
    return result
