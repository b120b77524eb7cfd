"""What the SMS endpoints enforce that drf-spectacular cannot read from the serializers: a send's
text has a non-space character; a provider's own secret is a real `whsec_` secret; an inbound body is a message (from, to, text) or a receipt
(status). Also links the reference adapters' downloads from the document's description."""
from __future__ import annotations

from thirdlane.api.schema import NOT_BLANK, request_rules, schema_extension

DOWNLOADS = ("\n\nSMS: reference adapters for the custom HTTP SMS provider, downloadable as "
             "[Perl](/api/sms/adapters/perl.zip), [Python](/api/sms/adapters/python.zip) and "
             "[Node.js](/api/sms/adapters/node.zip) (README, program, tests).")
# A provider's own signing secret: whsec_ and the base64 of 24-64 bytes (apps.webhooks.signing.valid_secret).
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = (f"^whsec_(?:(?:{_B64}{{4}}){{8,21}}|(?:{_B64}{{4}}){{8,21}}{_B64}{{2}}==|"
                  f"(?:{_B64}{{4}}){{8,20}}{_B64}{{3}}=)$")
request_rules({"SmsProviderRequest": {"fields": {"secret": {"pattern": SECRET_PATTERN}}}})
INBOUND_KINDS = [
    {"properties": {"type": {"const": "message"}}, "required": ["from", "to", "text"]},
    {"properties": {"type": {"const": "receipt"}}, "required": ["status"]},
]


@schema_extension
def sms_rules(result: dict) -> dict:
    info = result.setdefault("info", {})
    if DOWNLOADS not in info.get("description", ""):
        info["description"] = info.get("description", "") + DOWNLOADS
    schemas = result.get("components", {}).get("schemas", {})
    text = schemas.get("SmsSendRequest", {}).get("properties", {}).get("text")
    if text is not None:
        text["pattern"] = NOT_BLANK
    inbound = schemas.get("InboundRequest")
    if inbound is not None:
        inbound["oneOf"] = INBOUND_KINDS
    return result
