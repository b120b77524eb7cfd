"""Error codes of the sounds API (problem+json ``code`` values)."""
from thirdlane.api.errors import register_error_code

register_error_code("sound_unsupported_format", 400, "The file is not a WAV, MP3 or OGG sound.")
register_error_code("sound_not_audio", 400, "The file's content is not audio of the format its name says.")
register_error_code("sound_too_long", 400, "The sound is longer than the limit.")
register_error_code("sound_not_ready", 409, "The sound has not been converted (yet).")
register_error_code("sound_tools_missing", 503, "The sound converter or the text-to-speech engine is not installed.")
