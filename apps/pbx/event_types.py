from apps.events.registry import lifecycle, register_event_type

SERVER_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "role"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "sip_address": {"type": "string"},
        "sip_port": {"type": "integer"},
        "location": {"type": ["string", "null"], "description": "Location code."},
        "role": {"type": "string", "enum": ["pbx", "sbc", "media"]},
        "is_active": {"type": "boolean"},
    },
}
SERVER_EXAMPLE = {"id": 1, "name": "pbx-eu-1", "sip_address": "sip1.example.net", "sip_port": 5060,
                  "location": "fra", "role": "pbx", "is_active": True}
lifecycle("server", "PBX server", schema=SERVER_SCHEMA, example=SERVER_EXAMPLE, system=True)

LOCATION_SCHEMA = {
    "type": "object",
    "required": ["id", "code", "name"],
    "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                   "timezone": {"type": "string"}},
}
lifecycle("location", "location", schema=LOCATION_SCHEMA,
          example={"id": 1, "code": "fra", "name": "Frankfurt", "timezone": "Europe/Berlin"}, system=True)

PUSH_SCHEMA = {
    "type": "object",
    "required": ["server", "push", "status"],
    "properties": {
        "server": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "push": {"type": "integer"},
        "status": {"type": "string", "enum": ["succeeded", "failed"]},
        "files_changed": {"type": "array", "items": {"type": "string"}},
        "error": {"type": "string"},
    },
}
for verb, text in [("applied", "A server's configuration was written and reloaded."),
                   ("failed", "Applying a server's configuration failed for good (after retries).")]:
    register_event_type(
        f"server.config_{verb}", text, schema=PUSH_SCHEMA, system=True,
        example={"server": {"id": 1, "name": "pbx-eu-1"}, "push": 42,
                 "status": "succeeded" if verb == "applied" else "failed",
                 "files_changed": ["extensions.conf"], "error": ""})
