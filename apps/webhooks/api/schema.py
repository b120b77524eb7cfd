"""The OpenAPI document's ``webhooks`` section: one entry per event type, generated from the
catalogue, so every payload a receiver can get is described with its headers and schema."""
from __future__ import annotations

import re

from apps.events.registry import EVENT_TYPES
from apps.webhooks.matching import types_selected
from apps.webhooks.services import HEADER_NAME, MAX_HEADERS, RESERVED_HEADERS
from thirdlane.api.schema import request_rules, schema_extension


def selectors(*, system_only: bool) -> list[str]:
    """Every selector the services accept: ``*``, each event type, and each group (``crm.*``,
    ``config.extension.*``) that selects at least one type."""
    types = [t for t, e in EVENT_TYPES.items() if e.system or not system_only]
    groups = {".".join(t.split(".")[:n]) + ".*" for t in types for n in range(1, t.count(".") + 1)}
    found = {"*", *types, *(g for g in groups if types_selected([g], system_only=system_only))}
    return sorted(found)


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c if c == "-" else re.escape(c) for c in word)


_RESERVED = "|".join([*(_any_case(name) for name in sorted(RESERVED_HEADERS)), _any_case("webhook-") + ".*"])
HEADERS_SCHEMA = {
    "type": "object", "maxProperties": MAX_HEADERS,
    "propertyNames": {"pattern": HEADER_NAME.pattern, "not": {"pattern": f"^(?:{_RESERVED})$"}},
    "additionalProperties": {"type": "string", "maxLength": 1000, "pattern": "^[^\\r\\n\\u0000]*$"},
}

request_rules({
    "WebhookRequest": {"fields": {"event_types": {"items": {"type": "string", "enum": selectors(system_only=False)}},
                                  "headers": HEADERS_SCHEMA}},
    "SystemWebhookRequest": {"fields": {"event_types": {"items": {"type": "string",
                                                                  "enum": selectors(system_only=True)}},
                                        "headers": HEADERS_SCHEMA}},
})

SIGNATURE_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unique per message; the same on every retry (use it to deduplicate)."},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds when this attempt was signed."},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Space-separated `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` "
                    "with each current secret (two during a rotation). Verify with any Standard Webhooks library."},
]

ENVELOPE = {
    "type": "object",
    "required": ["type", "timestamp", "tenant", "event_id", "data"],
    "properties": {
        "type": {"type": "string", "description": "The event type."},
        "timestamp": {"type": "string", "format": "date-time", "description": "When the change committed."},
        "tenant": {"type": ["string", "null"], "description": "The tenant's slug (null for platform events)."},
        "event_id": {"type": "string", "format": "uuid"},
        "request_id": {"type": ["string", "null"], "description": "The API request that caused it."},
        "data": {"type": "object"},
    },
}


def _component(event_type: str) -> str:
    return "WebhookEvent_" + "".join(part.capitalize() for part in event_type.replace("_", ".").split("."))


@schema_extension
def add_webhooks(document: dict) -> dict:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["WebhookEnvelope"] = ENVELOPE
    webhooks = document.setdefault("webhooks", {})
    for event in sorted(EVENT_TYPES.values(), key=lambda e: e.type):
        name = _component(event.type)
        schemas[name] = {
            "allOf": [
                {"$ref": "#/components/schemas/WebhookEnvelope"},
                {"type": "object", "properties": {"type": {"const": event.type}, "data": event.schema}},
            ],
        }
        example = {"type": event.type, "timestamp": "2026-11-27T10:00:00Z",
                   "tenant": None if event.group in ("server", "location") else "acme",
                   "event_id": "7d0b6d4e-8a3c-4c59-9a7e-2f1b5d3c9e10", "request_id": "5f0c2b9e1d7a4c3b",
                   "data": event.example}
        webhooks[event.type] = {"post": {
            "operationId": "webhook_" + event.type.replace(".", "_"),
            "summary": event.type,
            "description": event.description + (" Also sent to system webhooks." if event.system else ""),
            "tags": [f"webhook events: {event.group}"],
            "parameters": SIGNATURE_HEADERS,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}, "example": example}}},
            "responses": {
                "2XX": {"description": "Received. Anything else is retried (about 5 s, 5 min, 30 min, 2 h, 5 h, "
                                       "10 h, 10 h); 410 disables the webhook; 429/503 `Retry-After` is honoured."},
            },
        }}
    return document
