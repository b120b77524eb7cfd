"""What the SMS endpoints enforce that drf-spectacular cannot read from the serializers: a send's
text has a non-space character; an inbound body is a message (from, to, text) or a receipt
(status). Also links the reference adapters' downloads from the document's description."""
from __future__ import annotations

from thirdlane.api.schema import NOT_BLANK, schema_extension

DOWNLOADS = ("\n\nSMS: reference adapters for the custom HTTP SMS provider, downloadable as "
             "[Perl](/api/sms/adapters/perl.zip), [Python](/api/sms/adapters/python.zip) and "
             "[Node.js](/api/sms/adapters/node.zip) (README, program, tests).")
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
