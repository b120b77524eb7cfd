"""Event types this app declares: ``system.*``. Call events are apps.calls', SMS events apps.sms'."""
from apps.events.registry import register_event_type

WEBHOOK_DISABLED_SCHEMA = {
    "type": "object",
    "required": ["webhook_id", "kind", "url", "reason"],
    "properties": {
        "webhook_id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["tenant", "system"]},
        "url": {"type": "string", "format": "uri"},
        "reason": {"type": "string", "enum": ["gone", "failing"],
                   "description": "`gone`: the endpoint answered 410; `failing`: every attempt failed for 5 days."},
        "failing_since": {"type": ["string", "null"], "format": "date-time"},
        "last_error": {"type": "string"},
    },
}
register_event_type(
    "system.webhook.disabled",
    "A webhook endpoint was disabled automatically (410 Gone, or 5 days of continuous failure). "
    "Re-enable it and use `recover` to replay what it missed.",
    schema=WEBHOOK_DISABLED_SCHEMA, system=True,
    example={"webhook_id": 12, "kind": "tenant", "url": "https://hooks.example.com/pbx", "reason": "failing",
             "failing_since": "2026-11-22T08:00:00Z", "last_error": "HTTP 502"},
)
