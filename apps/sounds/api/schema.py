"""What the sounds API refuses, stated in the OpenAPI document from the same patterns and lists the
services use: names and classes (apps/sounds/models.py), eSpeak NG's languages and voice variants
as installed (an ``enum`` read from espeak-ng when the document is built), the text-to-speech
text's characters and length, and "music on hold has a class, a prompt none". The upload's file
part is audio (``encoding``: audio/wav, audio/mpeg, audio/ogg).

What no schema can say is left to the descriptions: the file's content must be audio of the
format its name (or part Content-Type) says, within the size and length limits; a prompt an IVR
plays cannot be renamed (409 ``in_use``); a text only belongs to a text-to-speech prompt and a class
only to music on hold (409 ``invalid_state`` on others).
"""
from __future__ import annotations

from django.conf import settings

from apps.sounds import audio
from apps.sounds.models import CLASS_PATTERN, NAME_PATTERN
from thirdlane.api.schema import request_rules, schema_extension

_SPACE = "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_CONTROL = "\\u0000-\\u0008\\u000b-\\u001f\\u007f"  # what services._CONTROL refuses (tabs and line breaks are fine)
TEXT = {"pattern": f"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$",
        "maxLength": int(getattr(settings, "SOUNDS_TTS_MAX_CHARS", 2000)), "minLength": 1}
_MOH_CLASS_IFF_MOH = {"anyOf": [
    {"required": ["kind", "moh_class"], "properties": {"kind": {"const": "moh"}}},
    {"not": {"required": ["moh_class"]}, "properties": {"kind": {"const": "prompt"}}},
]}


def _speech() -> dict:
    try:
        languages, voices = list(audio.languages()), list(audio.voices())
    except audio.AudioError:  # no espeak-ng where the document is built: the API answers 503 anyway
        return {}
    return {"language": {"enum": languages}, "voice": {"enum": ["", *voices]}}


_FIELDS = {"name": {"pattern": NAME_PATTERN}, "moh_class": {"pattern": CLASS_PATTERN}}

request_rules({
    "SoundUploadRequest": {"fields": _FIELDS, "schema": _MOH_CLASS_IFF_MOH},
    "SoundTtsRequest": {"fields": {**_FIELDS, "text": TEXT, **_speech()}},
    "SoundFileRequest": {"fields": {**_FIELDS, "text": TEXT, **_speech()}},
})


@schema_extension
def sound_file_part(document: dict) -> dict:
    """The upload's ``file`` part is audio; without an extension in its file name, its part's
    Content-Type says the format."""
    body = document.get("paths", {}).get("/api/sounds/{tenant}/", {}).get("post", {}).get("requestBody", {})
    multipart = body.get("content", {}).get("multipart/form-data")
    if multipart is not None:
        multipart["encoding"] = {"file": {"contentType": "audio/wav, audio/mpeg, audio/ogg"}}
    return document
