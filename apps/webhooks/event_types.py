"""Event types this app declares: ``communications.sms.*`` (declared so subscriptions and the
catalogue can name them before the SMS gateway produces them) and ``system.*``. Call events are
apps.calls'."""
from apps.events.registry import register_event_type

SMS_SCHEMA = {
    "type": "object",
    "required": ["message_id", "direction", "from", "to", "text"],
    "properties": {
        "message_id": {"type": "string"},
        "direction": {"type": "string", "enum": ["inbound", "outbound"]},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "text": {"type": "string"},
        "status": {"type": "string", "enum": ["received", "queued", "sent", "delivered", "failed"]},
    },
}
SMS_EXAMPLE = {"message_id": "sms_01J9", "direction": "inbound", "from": "+14155550100", "to": "+14155550199",
               "text": "Call me back please", "status": "received"}
register_event_type("communications.sms.received", "An SMS arrived on one of the tenant's numbers.",
                    schema=SMS_SCHEMA, example=SMS_EXAMPLE)
register_event_type("communications.sms.sent", "An SMS was sent from one of the tenant's numbers.",
                    schema=SMS_SCHEMA, example={**SMS_EXAMPLE, "direction": "outbound", "status": "sent"})
register_event_type("communications.sms.failed", "An outbound SMS could not be delivered.",
                    schema=SMS_SCHEMA, example={**SMS_EXAMPLE, "direction": "outbound", "status": "failed"})

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
