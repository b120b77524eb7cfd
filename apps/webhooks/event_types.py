"""Event types this app declares: ``communications.*`` (calls and SMS, produced by the AMI and
SMS paths; declared here so subscriptions and the catalogue can name them now) and ``system.*``."""
from apps.events.registry import register_event_type

CALL_SCHEMA = {
    "type": "object",
    "required": ["call_id", "direction", "from", "to"],
    "properties": {
        "call_id": {"type": "string", "description": "The PBX's linked id of the call."},
        "direction": {"type": "string", "enum": ["inbound", "outbound", "internal"]},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "extension": {"type": ["string", "null"], "description": "The tenant's extension involved, if any."},
        "queue": {"type": ["string", "null"]},
        "started_at": {"type": "string", "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "duration_seconds": {"type": ["integer", "null"]},
        "disposition": {"type": ["string", "null"], "enum": ["answered", "no_answer", "busy", "failed", None]},
    },
}
CALL_EXAMPLE = {
    "call_id": "1732690000.42", "direction": "inbound", "from": "+14155550100", "to": "+14155550199",
    "extension": "1001", "queue": None, "started_at": "2026-11-27T10:00:00Z", "answered_at": "2026-11-27T10:00:04Z",
    "ended_at": None, "duration_seconds": None, "disposition": None,
}
for verb, text in [
    ("started", "A call started ringing (inbound, outbound or internal)."),
    ("answered", "A call was answered."),
    ("ended", "A call ended; carries the duration and disposition."),
    ("missed", "An inbound call ended without being answered."),
]:
    register_event_type(f"communications.call.{verb}", text, schema=CALL_SCHEMA, example=CALL_EXAMPLE)

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
