"""What the telephony services refuse, stated in the OpenAPI document from the validators' own
regexes (apps/telephony/validators.py), so a client generated from it sends nothing the API refuses.

Two rules no JSON Schema can state are left to the descriptions: an extension number has exactly
as many digits as the tenant's ``extension_length`` (its own data, 400 ``invalid_number``), and IVR
option digits and bulk row numbers are unique within the request (``duplicate_digit``,
``duplicate_number``).
"""
from __future__ import annotations

from apps.pbx.validators import HOST_SCHEMA
from apps.telephony import validators
from apps.telephony.models import CODECS
from thirdlane.api.schema import request_rules, schema_extension

_PHONE = {"format": "phone", "description": "A valid phone number: E.164, or national in the tenant's "
                                           "`default_region` (digits, an optional leading +, spaces, dots, "
                                           "dashes and parentheses)."}
_INTERNAL = {"pattern": "^[0-9]{2,8}$"}
_EXTENSION_NUMBER = {"pattern": "^[0-9]{2,8}$",
                     "description": "Digits, exactly as many as the tenant's `extension_length`."}


def _blank_or(pattern: str) -> str:
    return f"^(?:{pattern.lstrip('^').rstrip('$')})?$"


# A registration trunk needs its credentials; an IP-authenticated one does not.
_TRUNK_CREDENTIALS = {"anyOf": [
    {"required": ["auth_type"], "properties": {"auth_type": {"const": "ip_auth"}}},
    {"required": ["username", "secret"],
     "properties": {"username": {"minLength": 1}, "secret": {"minLength": 1}}},
]}
# A route dials by pattern or is an emergency route; an emergency route names its numbers.
_ROUTE_PATTERNS = {"allOf": [
    {"anyOf": [{"required": ["dial_patterns"], "properties": {"dial_patterns": {"minItems": 1}}},
               {"required": ["emergency_numbers"], "properties": {"emergency_numbers": {"minItems": 1}}}]},
    {"anyOf": [{"not": {"required": ["is_emergency"]}},
               {"properties": {"is_emergency": {"const": False}}},
               {"required": ["emergency_numbers"], "properties": {"emergency_numbers": {"minItems": 1}}}]},
]}

_CODECS = {"uniqueItems": True, "items": {"type": "string", "enum": list(CODECS)}}
_SECRET = {"description": "Write-only. Generated (strong) when absent. At least 12 characters mixing three of: lower "
                          "case, upper case, digits, symbols; six different characters or more; not containing the "
                          "extension number (400 `weak_secret`)."}

request_rules({
    "DidRequest": {"fields": {"number": _PHONE}},
    "ExtensionRequest": {"fields": {
        "number": _EXTENSION_NUMBER, "codecs": _CODECS, "sip_secret": _SECRET,
        "voicemail_pin": {"pattern": _blank_or("^[0-9]{4,10}$"),
                          "description": "Write-only. 4 to 10 digits, not one repeated digit nor the extension number "
                                         "(400 `weak_secret`). Generated when voicemail is on and none is given."}}},
    "ExtensionBulkRequest": {"fields": {"start": _EXTENSION_NUMBER, "end": _EXTENSION_NUMBER}},
    "TrunkRequest": {"fields": {"host": HOST_SCHEMA, "codecs": _CODECS,
                                "username": {"pattern": _blank_or(validators.SIP_USER_PATTERN)}},
                     "schema": _TRUNK_CREDENTIALS},
    "OutboundRouteRequest": {"fields": {
        "dial_patterns": {"uniqueItems": True, "items": {"type": "string", "maxLength": 40,
                                                         "pattern": validators.DIAL_PATTERN_PATTERN}},
        "emergency_numbers": {"items": {"type": "string", "maxLength": 10, "pattern": "^[0-9]+$"}},
    }, "schema": _ROUTE_PATTERNS},
    "IvrOptionRequest": {"fields": {"digit": {"pattern": "^[0-9*#]$"}}},
    # A member is an extension or an agent: exactly one of the two ids.
    "QueueMemberRequest": {"schema": {"oneOf": [
        {"required": ["extension"], "properties": {"extension": {"type": "integer"}, "agent": {"type": "null"}}},
        {"required": ["agent"], "properties": {"agent": {"type": "integer"}, "extension": {"type": "null"}}}]}},
    "QueueRequest": {"fields": {"music_on_hold": {
        "pattern": validators.TOKEN_PATTERN,
        "description": "One of the tenant's music-on-hold classes (/api/sounds/<tenant>/moh-classes), played once "
                       "it has a file on the server; otherwise Asterisk's default class."}}},
    "IvrRequest": {"fields": {"number": {"pattern": _blank_or(_INTERNAL["pattern"])},
                              "greeting_recording": {
                                  "pattern": _blank_or(validators.SOUND_PATTERN),
                                  "description": "One of the tenant's prompts by name (`welcome`, /api/sounds/), "
                                                 "played once converted; or a file on the PBX (`custom/welcome`). "
                                                 "Empty: the prompt the portal speaks for the IVR (docs/sounds.md)."}}},
})


@schema_extension
def bulk_rows(document: dict) -> dict:
    """Bulk rows are extensions (the fields of ``ExtensionRequest``); ``defaults`` are the fields
    every row shares (not the name, the secret, the PIN or the number)."""
    schemas = document.get("components", {}).get("schemas", {})
    bulk, extension = schemas.get("ExtensionBulkRequest"), schemas.get("ExtensionRequest")
    if not bulk or not extension:
        return document
    props = bulk.get("properties", {})
    if "rows" in props:
        props["rows"]["items"] = {"$ref": "#/components/schemas/ExtensionRequest"}
    if "defaults" in props:
        shared = {k: v for k, v in extension.get("properties", {}).items()
                  if k not in ("name", "sip_secret", "voicemail_pin", "number")}
        props["defaults"] = {"type": "object", "properties": shared, "additionalProperties": False,
                             "description": props["defaults"].get("description", "")}
    return document

