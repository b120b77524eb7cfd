"""Event types of sound files: ``config.sound.<created|updated|deleted>``. A conversion that
ends (ready or failed) is an ``updated`` event with the new status, so servers hosting the
tenant get a push once the sound can be played."""
from apps.events.registry import lifecycle

SOUND = {
    "type": "object",
    "required": ["id", "name", "kind", "status"],
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["prompt", "moh"]},
        "moh_class": {"type": "string", "description": "Music-on-hold class (kind moh), else empty."},
        "source": {"type": "string", "enum": ["upload", "tts"]},
        "status": {"type": "string", "enum": ["pending", "converting", "ready", "failed"]},
        "duration_ms": {"type": ["integer", "null"]},
        "checksum": {"type": "string", "description": "SHA-256 of the converted WAV (empty until ready)."},
        "error": {"type": "string"},
        "ivr": {"type": ["integer", "null"], "description": "The IVR a portal-spoken prompt belongs to."},
    },
}
EXAMPLE = {"id": 5, "name": "welcome", "kind": "prompt", "moh_class": "", "source": "upload", "status": "ready",
           "duration_ms": 3300, "checksum": "9f2c…", "error": "", "ivr": None}

lifecycle("config.sound", "sound file", schema=SOUND, example=EXAMPLE)
