"""``communications.sms.*``: one event per inbound message and per outbound status change."""
from apps.events.registry import register_event_type

CONTACT = {"type": ["object", "null"], "description": "The CRM contact the remote number matched.",
           "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                          "account": {"type": ["object", "null"]}}}
SMS_SCHEMA = {
    "type": "object",
    "required": ["message_id", "id", "direction", "status", "from", "to", "text", "did", "segments"],
    "properties": {
        "message_id": {"type": "string", "description": "The portal's id (sms_<hex>), also sent to the adapter."},
        "id": {"type": "integer", "description": "The message's id in /api/sms/<tenant>/messages/."},
        "direction": {"type": "string", "enum": ["inbound", "outbound"]},
        "status": {"type": "string", "enum": ["received", "queued", "sent", "delivered", "failed"]},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "did": {"type": "string", "description": "The tenant's number."},
        "text": {"type": "string"},
        "encoding": {"type": "string", "enum": ["gsm7", "ucs2"]},
        "segments": {"type": "integer"},
        "carrier_message_id": {"type": ["string", "null"]},
        "error_code": {"type": "string"},
        "error_message": {"type": "string", "description": "The carrier's reason (failed)."},
        "provider": {"type": "string"},
        "contact": CONTACT,
    },
}
SMS_EXAMPLE = {"message_id": "sms_4f1c0e2a9b7d4c1e8f3a6b5c4d3e2f10", "id": 41, "direction": "inbound",
               "status": "received", "from": "+14155550100", "to": "+14155550199", "did": "+14155550199",
               "text": "Call me back please", "encoding": "gsm7", "segments": 1, "carrier_message_id": "c-9001",
               "error_code": "", "error_message": "", "provider": "Carrier X",
               "contact": {"id": 17, "name": "Ada Lovelace", "account": None}}
_OUT = {**SMS_EXAMPLE, "direction": "outbound", "from": "+14155550199", "to": "+14155550100"}

register_event_type("communications.sms.received", "An SMS arrived on one of the tenant's numbers.",
                    schema=SMS_SCHEMA, example=SMS_EXAMPLE, system=True)
register_event_type("communications.sms.sent", "The carrier accepted an SMS sent from one of the tenant's numbers.",
                    schema=SMS_SCHEMA, example={**_OUT, "status": "sent"}, system=True)
register_event_type("communications.sms.delivered", "The carrier reported an SMS delivered to the handset.",
                    schema=SMS_SCHEMA, example={**_OUT, "status": "delivered"}, system=True)
register_event_type("communications.sms.failed",
                    "An outbound SMS could not be delivered (`error_code`, `error_message`: the carrier's reason).",
                    schema=SMS_SCHEMA, example={**_OUT, "status": "failed", "error_code": "carrier_rejected",
                                                "error_message": "Unknown subscriber"}, system=True)
