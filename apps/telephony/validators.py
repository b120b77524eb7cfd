"""Reusable validators of telephony input. Each raises a DomainError with a stable code and field.

``validate_destination`` is the one cross-object check for destinations: an id only resolves in
the current tenant schema, so another tenant's object can never be named (its id is simply not
found, ``destination_not_found``).
"""
from __future__ import annotations

import re
import secrets
import string

import phonenumbers
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection

from apps.pbx.validators import validate_host as check_host
from apps.telephony.destinations import TARGET_MODELS, Destination, DestType
from apps.telephony.models import CODECS
from thirdlane.api.errors import DomainError, Invalid


def fail(code: str, message: str, field: str) -> DomainError:
    return DomainError(message, code=code, field=field)


# --- numbers ------------------------------------------------------------------------------
def validate_internal_number(number: str, *, length: int | None = None, field: str = "number") -> str:
    number = (number or "").strip()
    if not number.isdigit() or not number.isascii():
        raise fail("invalid_number", "The number must be digits only.", field)
    if length is not None and len(number) != length:
        raise fail("invalid_number", f"The number must have exactly {length} digits.", field)
    if length is None and not 2 <= len(number) <= 8:
        raise fail("invalid_number", "The number must have 2 to 8 digits.", field)
    return number


# What a phone number may be written with: digits, an optional leading +, and the spaces, dots,
# dashes and parentheses people group digits with (no letters, no extensions).
PHONE_PATTERN = r"^\+?[0-9 ().-]*[0-9][0-9 ().-]*$"
_PHONE = re.compile(PHONE_PATTERN)


def normalize_e164(raw: str, *, region: str = "US", field: str = "number") -> str:
    """Parse a phone number (national numbers in ``region``) and return it as E.164."""
    raw = (raw or "").strip()
    if not _PHONE.match(raw):
        raise fail("invalid_e164", f"{raw!r} is not a phone number: digits, an optional leading +, spaces, dots, "
                                   "dashes and parentheses.", field)
    try:
        parsed = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException:
        raise fail("invalid_e164", f"{raw!r} is not a phone number.", field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise fail("invalid_e164", f"{raw!r} is not a valid phone number.", field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- codecs and patterns ---------------------------------------------------------------------
def validate_codecs(codecs, *, field: str = "codecs") -> list[str]:
    if codecs is None:
        return []
    if isinstance(codecs, str):
        codecs = [c for c in re.split(r"[,\s]+", codecs) if c]
    out = []
    for codec in codecs:
        name = str(codec).strip().lower()
        if name not in CODECS:
            raise fail("invalid_codec", f"Unknown codec {codec!r}; known: {', '.join(CODECS)}.", field)
        if name in out:
            raise fail("invalid_codec", f"Codec {name!r} is listed twice.", field)
        out.append(name)
    return out


_LITERAL = re.compile(r"^\+?[0-9*#]+$")
# validate_dial_pattern as one regex, for the OpenAPI document: a literal, or _ then digits,
# N/X/Z (either case), * # +, [classes] of digits and ascending ranges, and an optional . or !.
_RANGES = "|".join(f"{a}-[{a}-9]" for a in range(10))
DIAL_PATTERN_PATTERN = (r"^(?:\+?[0-9*#]+|_(?:[0-9*#+NXZnxz]|\[(?:" + _RANGES + r"|[0-9])+\])+[.!]?)$")
_PATTERN_TOKEN = re.compile(r"\[[0-9\-]+\]|[0-9*#+NXZ]")


def validate_dial_pattern(pattern: str, *, field: str = "dial_patterns") -> str:
    """Asterisk extension pattern: a literal (``911``) or ``_`` + N/X/Z/digits/[ranges] + optional . or !"""
    p = (pattern or "").strip()
    if _LITERAL.match(p):
        return p
    if not p.startswith("_") or len(p) < 2:
        raise fail("invalid_pattern", f"{pattern!r}: a pattern is digits, or starts with _ (e.g. _NXXNXXXXXX).", field)
    body = p[1:].upper()
    if body[-1] in ".!":
        body = body[:-1]
    if not body:
        raise fail("invalid_pattern", f"{pattern!r}: a pattern needs at least one digit or class.", field)
    pos = 0
    while pos < len(body):
        m = _PATTERN_TOKEN.match(body, pos)
        if not m:
            raise fail("invalid_pattern", f"{pattern!r}: unexpected {body[pos]!r} at position {pos + 1}.", field)
        token = m.group(0)
        if token.startswith("["):
            inner = token[1:-1]
            if not inner or not re.fullmatch(r"([0-9](-[0-9])?)+", inner):
                raise fail("invalid_pattern", f"{pattern!r}: bad character class {token}.", field)
            for a, b in re.findall(r"([0-9])-([0-9])", inner):
                if a > b:
                    raise fail("invalid_pattern", f"{pattern!r}: empty range {a}-{b}.", field)
        pos = m.end()
    return "_" + body + (p[-1] if p[-1] in ".!" else "")


# --- secrets ---------------------------------------------------------------------------------
_ALPHABET = string.ascii_letters + string.digits + "-_.!@%"


def generate_secret(length: int = 24) -> str:
    """A random secret with lower, upper and digit characters (what validate_secret demands)."""
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (any(c.islower() for c in value) and any(c.isupper() for c in value)
                and any(c.isdigit() for c in value)):
            return value


def validate_secret(secret: str, *, number: str = "", field: str = "sip_secret", min_length: int = 12) -> str:
    if len(secret) < min_length:
        raise fail("weak_secret", f"The secret must have at least {min_length} characters.", field)
    classes = sum([any(c.islower() for c in secret), any(c.isupper() for c in secret),
                   any(c.isdigit() for c in secret), any(not c.isalnum() for c in secret)])
    if classes < 3:
        raise fail("weak_secret", "The secret must mix at least three of: lower case, upper case, digits, symbols.",
                   field)
    if number and number in secret:
        raise fail("weak_secret", "The secret must not contain the extension number.", field)
    if len(set(secret)) < 6:
        raise fail("weak_secret", "The secret repeats too few different characters.", field)
    return secret


def generate_pin(length: int = 6) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def validate_pin(pin: str, *, number: str = "", field: str = "voicemail_pin") -> str:
    if not pin.isdigit() or not 4 <= len(pin) <= 10:
        raise Invalid("The PIN must be 4 to 10 digits.", field=field)
    if pin == number or len(set(pin)) == 1:
        raise fail("weak_secret", "The PIN must not be the extension number or one repeated digit.", field)
    return pin


# --- destinations ----------------------------------------------------------------------------
def _check_schema(tenant) -> None:
    if tenant is not None and connection.schema_name != tenant.schema_name:
        raise RuntimeError(f"validate_destination for {tenant.slug} called in schema {connection.schema_name}")


def validate_destination(tenant, dest: Destination | dict | None, *, field: str = "destination",
                         required: bool = True) -> Destination:
    """Check a destination's shape and that its object exists in ``tenant``'s schema.

    Returns the normalised destination (external numbers as E.164). Loops of time conditions are
    checked by ``check_time_condition_loop`` (they need the whole graph, not one destination).
    """
    _check_schema(tenant)
    if dest is None or (isinstance(dest, dict) and not dest):
        dest = Destination()
    if isinstance(dest, dict):
        dest = Destination(dest.get("type") or "", dest.get("id"), dest.get("number") or "")
    if not dest.type:
        if required:
            raise fail("invalid_destination", "A destination is required.", field)
        return Destination()
    if dest.type not in DestType.values:
        raise fail("invalid_destination", f"Unknown destination type {dest.type!r}.", field)
    if dest.type == DestType.HANGUP:
        return Destination(DestType.HANGUP)
    if dest.type == DestType.EXTERNAL:
        if not dest.number:
            raise fail("invalid_destination", "An external destination needs a number.", field)
        region = getattr(tenant, "default_region", "US")
        return Destination(DestType.EXTERNAL, None, normalize_e164(dest.number, region=region, field=field))
    try:
        target_id = int(dest.id)
    except (TypeError, ValueError):
        raise fail("invalid_destination", f"A {dest.type} destination needs the id of the object.", field) from None
    model = apps.get_model("telephony", TARGET_MODELS[dest.type])
    if dest.type == DestType.VOICEMAIL:
        target = model.objects.filter(pk=target_id).values_list("voicemail_enabled", flat=True).first()
        if target is False:
            raise fail("invalid_destination", f"Extension {target_id} has voicemail turned off.", field)
        found = target is not None
    else:
        found = model.objects.filter(pk=target_id).exists()
    if not found:
        raise fail("destination_not_found", f"No {model._meta.verbose_name} with id {target_id} in this tenant.", field)
    return Destination(dest.type, target_id, "")


# --- text that ends up in the PBX configuration ------------------------------------------------
# The renderer makes values inert again (defence in depth); refusing them here gives the client a
# clear 400 instead of a silently changed name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SIP_USER_PATTERN = r"^[A-Za-z0-9._~+@-]{1,100}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"
SOUND_PATTERN = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*(\.(wav|gsm|ulaw|alaw|g722|sln16?))?$"
_SIP_USER = re.compile(SIP_USER_PATTERN)
_SAFE_TOKEN = re.compile(TOKEN_PATTERN)
_SOUND = re.compile(SOUND_PATTERN)


def validate_text(value: str, *, field: str) -> str:
    if value and _CONTROL.search(value):
        raise Invalid("Control characters (line breaks, tabs) are not allowed.", field=field)
    return value


def validate_host(value: str, *, field: str = "host") -> str:
    """A DNS name or an IP address (an IPv6 address may be bracketed), as for servers."""
    host = (value or "").strip()
    bracketed = host.startswith("[") and host.endswith("]") and ":" in host
    try:
        check_host(host[1:-1] if bracketed else host)
    except ValidationError:
        raise Invalid(f"{value!r} is not a host name or IP address.", field=field) from None
    return host


def validate_sip_user(value: str, *, field: str = "username") -> str:
    if value and not _SIP_USER.match(value):
        raise Invalid("Letters, digits and . _ ~ + @ - only.", field=field)
    return value


def validate_token(value: str, *, field: str) -> str:
    if not _SAFE_TOKEN.match(value or ""):
        raise Invalid("Letters, digits, _ and - only.", field=field)
    return value


def validate_sound(value: str, *, field: str) -> str:
    if value and not _SOUND.match(value):
        raise Invalid("One of the tenant's prompts by name (welcome) or a sound file on the PBX (custom/welcome): "
                      "letters, digits, _ - and /.", field=field)
    return value
