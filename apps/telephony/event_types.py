"""Event types of the telephony configuration: ``config.<object>.<created|updated|deleted>``.

Extension, DID and trunk lifecycle are ``system`` events (delivered to system webhooks too).
Payloads never carry secrets (SIP secret, voicemail PIN, trunk secret).
"""
from apps.events.registry import lifecycle

NULLABLE_STR = {"type": ["string", "null"]}
DESTINATION = {
    "type": "object",
    "properties": {
        "type": {"type": ["string", "null"],
                 "enum": ["extension", "queue", "ivr", "time_condition", "voicemail", "external", "hangup",
                          "ring_group", "conference", "paging_group", None]},
        "id": {"type": ["integer", "null"]},
        "number": {"type": "string"},
    },
}


def obj(required, **props):
    return {"type": "object", "required": list(required), "properties": props}


EXTENSION = obj(
    ["id", "number", "name", "phone_username", "location", "primary_server"],
    id={"type": "integer"}, number={"type": "string"}, name={"type": "string"}, email={"type": "string"},
    phone_username={"type": "string", "description": "PJSIP endpoint name on the PBX: <number>-<tenant>."},
    location={**NULLABLE_STR, "description": "Location code, or null for the tenant's default."},
    primary_server={**NULLABLE_STR, "description": "Name of the tenant's primary PBX server."},
    primary_server_sip={"type": ["object", "null"], "required": ["address", "port"],
                        "properties": {"address": {"type": "string"}, "port": {"type": "integer"}},
                        "description": "Where the extension's phone sends SIP: the primary server's SIP address "
                                       "and port (null without a primary server)."},
    caller_id_name={"type": "string"}, caller_id_number={"type": "string"},
    voicemail_enabled={"type": "boolean"}, dnd={"type": "boolean"}, enabled={"type": "boolean"},
    codecs={"type": "array", "items": {"type": "string"}}, max_contacts={"type": "integer"},
    recording_inbound={"type": "string"}, recording_outbound={"type": "string"},
    forward_always={"type": "string"}, forward_busy={"type": "string"}, forward_no_answer={"type": "string"},
    followme_enabled={"type": "boolean"}, followme_numbers={"type": "array", "items": {"type": "string"}},
    settings_version={"type": "integer", "description": "Grows with every change of DND, forwarding or follow-me "
                                                        "(from the API or a feature code)."},
    bulk={"type": "boolean", "description": "Present and true when created by POST .../bulk."},
    previous_phone_username={"type": "string", "description": "On updates that changed the number: the "
                                                              "endpoint name before the change."},
)
EXTENSION_EXAMPLE = {
    "id": 12, "number": "1001", "name": "Alice", "email": "alice@example.com", "phone_username": "1001-acme",
    "location": "par", "primary_server": "pbx-eu-1",
    "primary_server_sip": {"address": "sip.eu-1.example.net", "port": 5060}, "caller_id_name": "Alice", "caller_id_number": "",
    "voicemail_enabled": True, "dnd": False, "enabled": True, "codecs": ["ulaw", "alaw", "g722"],
    "max_contacts": 1, "recording_inbound": "never", "recording_outbound": "never",
}
DID = obj(["id", "number", "destination"], id={"type": "integer"}, number={"type": "string"},
          description={"type": "string"}, destination=DESTINATION, enabled={"type": "boolean"},
          sms_enabled={"type": "boolean"})
DID_EXAMPLE = {"id": 3, "number": "+14155550100", "description": "Main line",
               "destination": {"type": "ivr", "id": 1}, "enabled": True}
TRUNK = obj(["id", "name", "auth_type", "host"], id={"type": "integer"}, name={"type": "string"},
            auth_type={"type": "string", "enum": ["registration", "ip_auth"]}, host={"type": "string"},
            port={"type": "integer"}, transport={"type": "string"}, username={"type": "string"},
            codecs={"type": "array", "items": {"type": "string"}}, max_channels={"type": ["integer", "null"]},
            outbound_caller_id={"type": "string"}, enabled={"type": "boolean"},
            qualify_frequency={"type": "integer", "description": "Seconds between OPTIONS pings; 0 = off."},
            inbound_did={"type": ["integer", "null"], "description": "DID that calls to the contact user reach."},
            inbound_destination={**DESTINATION, "type": ["object", "null"]})
TRUNK_EXAMPLE = {"id": 2, "name": "carrier-a", "auth_type": "registration", "host": "sip.carrier.example",
                 "port": 5060, "transport": "udp", "username": "acme01", "codecs": ["ulaw"], "max_channels": 30,
                 "outbound_caller_id": "+14155550100", "qualify_frequency": 0, "inbound_did": 5,
                 "inbound_destination": None, "enabled": True}
ROUTE = obj(["id", "name", "priority", "dial_patterns", "trunks"], id={"type": "integer"}, name={"type": "string"},
            priority={"type": "integer"}, dial_patterns={"type": "array", "items": {"type": "string"}},
            strip_digits={"type": "integer"}, prepend={"type": "string"}, is_emergency={"type": "boolean"},
            emergency_numbers={"type": "array", "items": {"type": "string"}},
            trunks={"type": "array", "items": {"type": "integer"}, "description": "Trunk ids in dialling order."},
            enabled={"type": "boolean"})
ROUTE_EXAMPLE = {"id": 1, "name": "US long distance", "priority": 10, "dial_patterns": ["_1NXXNXXXXXX"],
                 "strip_digits": 0, "prepend": "", "is_emergency": False, "emergency_numbers": [], "trunks": [2, 5],
                 "enabled": True}
QUEUE = obj(["id", "number", "name", "strategy", "members"], id={"type": "integer"}, number={"type": "string"},
            name={"type": "string"}, strategy={"type": "string"}, ring_timeout={"type": "integer"},
            wrapup_time={"type": "integer"}, max_wait={"type": "integer"}, fallback=DESTINATION,
            members={"type": "array", "items": obj([], extension={"type": ["integer", "null"]},
                                                   agent={"type": ["integer", "null"]}, penalty={"type": "integer"})})
QUEUE_EXAMPLE = {"id": 4, "number": "5000", "name": "Support", "strategy": "rrmemory", "ring_timeout": 15,
                 "wrapup_time": 10, "max_wait": 300, "fallback": {"type": "voicemail", "id": 12},
                 "members": [{"extension": 12, "agent": None, "penalty": 0}]}
AGENT = obj(["id", "name", "state"], id={"type": "integer"}, name={"type": "string"},
            extension={"type": ["integer", "null"]}, state={"type": "string"}, pause_reason={"type": "string"},
            state_changed_at={"type": ["string", "null"], "format": "date-time"})
AGENT_EXAMPLE = {"id": 7, "name": "Bob", "extension": 12, "state": "paused", "pause_reason": "lunch",
                 "state_changed_at": "2026-01-05T12:00:00Z"}
IVR = obj(["id", "name", "options"], id={"type": "integer"}, number=NULLABLE_STR, name={"type": "string"},
          invalid_destination=DESTINATION, timeout_destination=DESTINATION, direct_dial={"type": "boolean"},
          options={"type": "array", "items": obj(["digit", "destination"], digit={"type": "string"},
                                                 destination=DESTINATION)})
IVR_EXAMPLE = {"id": 1, "number": "6000", "name": "Main menu", "direct_dial": True,
               "invalid_destination": {"type": "hangup"}, "timeout_destination": {"type": "queue", "id": 4},
               "options": [{"digit": "1", "destination": {"type": "queue", "id": 4}}]}
SCHEDULE = obj(["id", "name", "timezone"], id={"type": "integer"}, name={"type": "string"},
               timezone={"type": "string"}, weekly_ranges={"type": "array"}, holidays={"type": "array"})
SCHEDULE_EXAMPLE = {"id": 1, "name": "Office hours", "timezone": "Europe/Paris",
                    "weekly_ranges": [{"day_of_week": 0, "start_time": "09:00:00", "end_time": "17:00:00"}],
                    "holidays": [{"name": "New year", "start_date": "2027-01-01", "end_date": "2027-01-01"}]}
TIME_CONDITION = obj(["id", "name", "schedule", "override"], id={"type": "integer"}, name={"type": "string"},
                     schedule={"type": "integer"}, match_destination=DESTINATION, no_match_destination=DESTINATION,
                     override={"type": "string", "enum": ["auto", "force_open", "force_closed"]})
TIME_CONDITION_EXAMPLE = {"id": 2, "name": "Business hours", "schedule": 1, "override": "auto",
                          "match_destination": {"type": "ivr", "id": 1},
                          "no_match_destination": {"type": "voicemail", "id": 12}}

lifecycle("config.extension", "extension", schema=EXTENSION, example=EXTENSION_EXAMPLE, system=True)
lifecycle("config.did", "DID", schema=DID, example=DID_EXAMPLE, system=True)
lifecycle("config.trunk", "trunk", schema=TRUNK, example=TRUNK_EXAMPLE, system=True)
lifecycle("config.outbound_route", "outbound route", schema=ROUTE, example=ROUTE_EXAMPLE)
lifecycle("config.queue", "queue", schema=QUEUE, example=QUEUE_EXAMPLE)
lifecycle("config.agent", "agent", schema=AGENT, example=AGENT_EXAMPLE)
lifecycle("config.ivr", "IVR", schema=IVR, example=IVR_EXAMPLE)
lifecycle("config.schedule", "schedule", schema=SCHEDULE, example=SCHEDULE_EXAMPLE)
lifecycle("config.time_condition", "time condition", schema=TIME_CONDITION, example=TIME_CONDITION_EXAMPLE)

# --- PBX features (issue 12) -------------------------------------------------------------------
RING_GROUP = obj(["id", "number", "name", "strategy", "members"], id={"type": "integer"}, number={"type": "string"},
                 name={"type": "string"}, strategy={"type": "string", "enum": ["ringall", "hunt", "memoryhunt"]},
                 ring_time={"type": "integer"}, no_answer_destination=DESTINATION,
                 members={"type": "array", "items": obj([], extension={"type": ["integer", "null"]},
                                                        number=NULLABLE_STR, delay={"type": "integer"},
                                                        ring_time={"type": "integer"})})
RING_GROUP_EXAMPLE = {"id": 2, "number": "600", "name": "Front desk", "strategy": "ringall", "ring_time": 30,
                      "no_answer_destination": {"type": "voicemail", "id": 12},
                      "members": [{"extension": 12, "number": None, "delay": 0, "ring_time": 20},
                                  {"extension": None, "number": "+14155550123", "delay": 10, "ring_time": 20}]}
BLOCK_LIST = obj(["id", "name", "all_dids", "entries"], id={"type": "integer"}, name={"type": "string"},
                 all_dids={"type": "boolean"}, dids={"type": "array", "items": {"type": "integer"}},
                 block_anonymous={"type": "boolean"}, action={"type": "string"}, enabled={"type": "boolean"},
                 entries={"type": "array", "items": obj(["kind", "value"], kind={"type": "string"},
                                                        value={"type": "string"}, description={"type": "string"})})
BLOCK_LIST_EXAMPLE = {"id": 1, "name": "Spam", "all_dids": True, "dids": [], "block_anonymous": True,
                      "action": "reject", "enabled": True,
                      "entries": [{"kind": "number", "value": "+14155550199", "description": "robocaller"},
                                  {"kind": "pattern", "value": "_+1900X.", "description": "premium"}]}
FEATURE_CODE = obj(["id", "feature", "code", "enabled"], id={"type": "integer"}, feature={"type": "string"},
                   code={"type": "string"}, enabled={"type": "boolean"}, default=NULLABLE_STR)
FEATURE_CODE_EXAMPLE = {"id": 1, "feature": "dnd_toggle", "code": "*31", "enabled": True, "default": "*76"}

lifecycle("config.ring_group", "ring group", schema=RING_GROUP, example=RING_GROUP_EXAMPLE)
lifecycle("config.block_list", "block list", schema=BLOCK_LIST, example=BLOCK_LIST_EXAMPLE)
lifecycle("config.feature_code", "feature code", schema=FEATURE_CODE, example=FEATURE_CODE_EXAMPLE)
CONFERENCE = obj(["id", "number", "name"], id={"type": "integer"}, number={"type": "string"}, name={"type": "string"},
                 has_pin={"type": "boolean"}, has_admin_pin={"type": "boolean"}, max_members={"type": "integer"},
                 record={"type": "boolean"}, music_when_alone={"type": "boolean"}, wait_for_admin={"type": "boolean"})
CONFERENCE_EXAMPLE = {"id": 1, "number": "800", "name": "Weekly", "has_pin": True, "has_admin_pin": True,
                      "max_members": 20, "record": False, "music_when_alone": True, "wait_for_admin": False}
PARKING_LOT = obj(["id", "name", "number", "slot_start", "slot_end"], id={"type": "integer"}, name={"type": "string"},
                  number={"type": "string"}, slot_start={"type": "string"}, slot_end={"type": "string"},
                  timeout={"type": "integer"})
PARKING_LOT_EXAMPLE = {"id": 1, "name": "Main", "number": "700", "slot_start": "701", "slot_end": "720", "timeout": 45}
PAGING_GROUP = obj(["id", "number", "name", "members"], id={"type": "integer"}, number={"type": "string"},
                   name={"type": "string"}, duplex={"type": "boolean"}, timeout={"type": "integer"},
                   members={"type": "array", "items": {"type": "integer"}})
PAGING_GROUP_EXAMPLE = {"id": 1, "number": "900", "name": "Warehouse", "duplex": False, "timeout": 30,
                        "members": [12, 13]}

lifecycle("config.conference", "conference", schema=CONFERENCE, example=CONFERENCE_EXAMPLE)
lifecycle("config.parking_lot", "parking lot", schema=PARKING_LOT, example=PARKING_LOT_EXAMPLE)
lifecycle("config.paging_group", "paging group", schema=PAGING_GROUP, example=PAGING_GROUP_EXAMPLE)
