"""Events of the integrator hooks (never the routing hook's secret)."""
from apps.events.registry import lifecycle
from apps.telephony.event_types import DESTINATION

CUSTOM_DIALPLAN = {"type": "object", "required": ["id", "point", "enabled"], "properties": {
    "id": {"type": "integer"}, "point": {"type": "string", "enum": ["inbound_did", "outbound_route"]},
    "description": {"type": "string"}, "enabled": {"type": "boolean"},
    "lines": {"type": "integer", "description": "Number of dialplan lines."}}}
ROUTING_HOOK = {"type": "object", "required": ["id", "name", "url", "enabled"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"},
    "timeout_ms": {"type": "integer"}, "fallback_destination": {**DESTINATION, "type": ["object", "null"]},
    "enabled": {"type": "boolean"}}}

lifecycle("config.custom_dialplan", "custom dialplan", schema=CUSTOM_DIALPLAN,
          example={"id": 1, "point": "inbound_did", "description": "CRM tagging", "enabled": True, "lines": 3})
lifecycle("config.routing_hook", "routing hook", schema=ROUTING_HOOK,
          example={"id": 1, "name": "crm-router", "url": "https://crm.example.com/route", "timeout_ms": 1500,
                   "fallback_destination": {"type": "queue", "id": 4}, "enabled": True})
