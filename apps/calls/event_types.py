"""``communications.*`` call, queue and agent events, produced from the PBX's AMI events."""
from apps.events.registry import register_event_type

CONTACT_SCHEMA = {
    "type": ["object", "null"],
    "description": "The CRM contact the outside party's number matched (screen pop), or null.",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                   "account": {"type": ["object", "null"],
                               "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}},
}
EXTENSION_SCHEMA = {
    "type": ["object", "null"],
    "description": "The tenant's extension on the call, with where its phone registers.",
    "properties": {"number": {"type": "string"}, "name": {"type": "string"},
                   "phone_username": {"type": "string", "description": "SIP peer name (1001-acme)."},
                   "location": {"type": ["string", "null"]}, "primary_server": {"type": ["string", "null"]}},
}
CALL_SCHEMA = {
    "type": "object",
    "required": ["call_id", "direction", "status", "from", "to", "started_at"],
    "properties": {
        "call_id": {"type": "string", "description": "The call's id on the PBX (Asterisk's Linkedid)."},
        "id": {"type": "integer", "description": "The call record's id: GET /api/calls/<tenant>/<id>/."},
        "direction": {"type": "string", "enum": ["inbound", "outbound", "internal", "inter_site"]},
        "status": {"type": "string", "enum": ["ringing", "answered", "ended"]},
        "from": {"type": "string"}, "from_name": {"type": "string"},
        "to": {"type": "string"}, "to_name": {"type": "string"},
        "did": {"type": "string"}, "trunk": {"type": "string"},
        "extension": EXTENSION_SCHEMA, "extensions": {"type": "array", "items": {"type": "string"}},
        "queue": {"type": "string"}, "agent": {"type": "string"},
        "ivr_path": {"type": "array", "items": {"type": "string"}},
        "started_at": {"type": "string", "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "duration": {"type": ["integer", "null"]}, "billsec": {"type": ["integer", "null"]},
        "disposition": {"type": "string",
                        "enum": ["", "answered", "no_answer", "busy", "failed", "abandoned", "voicemail"]},
        "hangup_cause": {"type": ["integer", "null"]}, "recording": {"type": "string"},
        "server": {"type": "string", "description": "The PBX server's name."},
        "contact": CONTACT_SCHEMA,
    },
}
CALL_EXAMPLE = {
    "call_id": "1795750932.48", "id": 812, "direction": "inbound", "status": "ended",
    "from": "+14155550100", "from_name": "", "to": "+14155550199", "to_name": "Alice Smith",
    "did": "+14155550199", "trunk": "acme-trunk-1",
    "extension": {"number": "1001", "name": "Alice Smith", "phone_username": "1001-acme", "location": "fra",
                  "primary_server": "pbx-eu-1"},
    "extensions": ["1001"], "queue": "", "agent": "", "ivr_path": ["tc-1", "ivr-1"],
    "started_at": "2026-11-27T10:00:00Z", "answered_at": "2026-11-27T10:00:04Z", "ended_at": "2026-11-27T10:02:10Z",
    "duration": 130, "billsec": 126, "disposition": "answered", "hangup_cause": 16, "recording": "",
    "server": "pbx-eu-1", "contact": {"id": 55, "name": "Ada Lovelace", "account": {"id": 7, "name": "Engines"}},
}
for verb, text in [
    ("ringing", "A call started: the first channel rang into the tenant's dialplan."),
    ("answered", "A call was answered (by a phone, an agent, or the PBX itself: an IVR, voicemail)."),
    ("ended", "A call ended; carries duration, billsec, disposition and hangup cause."),
    ("missed", "An inbound call ended without being answered by a person."),
    ("held", "A party put the call on hold (`channel` says which)."),
    ("unheld", "A party took the call off hold."),
    ("transferred", "The call was transferred (`type`: blind or attended)."),
]:
    # system=True: system webhooks (a reseller's or the platform's) may select them too.
    register_event_type(f"communications.call.{verb}", text, schema=CALL_SCHEMA, example=CALL_EXAMPLE, system=True)
for verb, text in [
    ("caller_joined", "A caller joined a queue and is waiting."),
    ("caller_abandoned", "A caller hung up while waiting in a queue."),
]:
    register_event_type(f"communications.queue.{verb}", text, schema=CALL_SCHEMA, system=True,
                        example={**CALL_EXAMPLE, "queue": "2000", "disposition": "abandoned"})

AGENT_SCHEMA = {
    "type": "object",
    "required": ["agent", "state"],
    "properties": {
        "agent": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "extension": {"type": "string"}, "queue": {"type": "string"},
        "state": {"type": "string", "enum": ["logged_out", "logged_in", "paused"]},
        "previous_state": {"type": "string"}, "pause_reason": {"type": "string"},
        "source": {"type": "string", "description": "`pbx`: the change was made on the phone or the PBX."},
    },
}
register_event_type(
    "communications.agent.state_changed", "An agent logged in, out, paused or un-paused on the PBX.",
    schema=AGENT_SCHEMA, system=True,
    example={"agent": {"id": 3, "name": "Bob"}, "extension": "1002", "queue": "2000", "state": "paused",
             "previous_state": "logged_in", "pause_reason": "lunch", "source": "pbx"})
