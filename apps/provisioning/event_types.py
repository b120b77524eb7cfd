"""``config.phone.<created|updated|deleted>``. Payloads never carry the phone's passwords or the
SIP secrets of its lines."""
from apps.events.registry import lifecycle

LINE = {"type": "object", "required": ["position", "extension", "number", "phone_username"],
        "properties": {"position": {"type": "integer"}, "extension": {"type": "integer"},
                       "number": {"type": "string"},
                       "phone_username": {"type": "string", "description": "The PJSIP endpoint the line registers as."},
                       "label": {"type": "string"}}}
PHONE = {"type": "object", "required": ["id", "mac", "vendor", "model", "lines"],
         "properties": {"id": {"type": "integer"},
                        "mac": {"type": "string", "description": "12 lower-case hex digits."},
                        "vendor": {"type": "string"}, "model": {"type": "string"}, "name": {"type": "string"},
                        "enabled": {"type": "boolean"}, "lines": {"type": "array", "items": LINE}}}
PHONE_EXAMPLE = {"id": 3, "mac": "001565a1b2c3", "vendor": "yealink", "model": "T54W", "name": "Reception desk",
                 "enabled": True, "lines": [{"position": 1, "extension": 12, "number": "1001",
                                             "phone_username": "1001-acme", "label": ""}]}

lifecycle("config.phone", "desk phone", schema=PHONE, example=PHONE_EXAMPLE)
