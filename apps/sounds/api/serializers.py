"""Sound file serializers: shape and field checks; the services check the rest (names, formats,
limits, the text-to-speech language)."""
from __future__ import annotations

from rest_framework import serializers

from apps.sounds.models import SoundFile


class SoundFileSerializer(serializers.ModelSerializer):
    """A sound as the API shows it. Writable on update: name, moh_class (music on hold), text,
    language and voice (text to speech; a change speaks it again)."""

    # Values are taken exactly as sent (no trimming): the services and the document's patterns agree.
    name = serializers.CharField(required=False, max_length=63, trim_whitespace=False,
                                 help_text="File name on the PBX, no extension (lower-case letters, digits, - _).")
    moh_class = serializers.CharField(required=False, max_length=30, trim_whitespace=False,
                                      help_text="Music-on-hold class (music on hold only; empty for prompts).")
    text = serializers.CharField(required=False, trim_whitespace=False,
                                 help_text="Text to speech only: what is said.")
    language = serializers.CharField(required=False, max_length=40, trim_whitespace=False,
                                     help_text="Text to speech only (eSpeak NG).")
    voice = serializers.CharField(required=False, allow_blank=True, max_length=40, trim_whitespace=False,
                                  help_text="Text to speech only: eSpeak NG voice variant (f3, m1 ...), or empty.")
    pbx_name = serializers.SerializerMethodField(
        help_text="How the PBX knows it: the prompt's name (an IVR's greeting_recording) or the music-on-hold "
                  "class <tenant>-<class>.")
    download_url = serializers.SerializerMethodField(help_text="The converted WAV, once ready.")

    class Meta:
        model = SoundFile
        fields = ("id", "name", "kind", "moh_class", "source", "ivr", "text", "language", "voice", "original_name",
                  "original_format", "original_bytes", "status", "progress", "error", "duration_ms", "checksum",
                  "files", "pbx_name", "download_url", "converted_at", "created_at", "updated_at")
        read_only_fields = ("kind", "source", "ivr", "original_name", "original_format", "original_bytes", "status",
                            "progress", "error", "duration_ms", "checksum", "files", "converted_at", "created_at",
                            "updated_at")

    def get_pbx_name(self, sound) -> str:
        tenant = self.context.get("tenant")
        if sound.kind == SoundFile.Kind.MOH:
            return f"{tenant.slug}-{sound.moh_class}" if tenant else sound.moh_class
        return sound.name

    def get_download_url(self, sound) -> str | None:
        tenant = self.context.get("tenant")
        if not sound.ready or tenant is None:
            return None
        return f"/api/sounds/{tenant.slug}/{sound.pk}/download"


class SoundUploadSerializer(serializers.Serializer):
    """``multipart/form-data``: the file and what to call it."""

    file = serializers.FileField(allow_empty_file=True, use_url=False,
                                 help_text="A WAV, MP3 or OGG file, by its name's extension (or, without one, the "
                                           "part's Content-Type) and by its content; converted to 8 kHz mono 16-bit "
                                           "WAV and mu-law.")
    name = serializers.CharField(max_length=63, trim_whitespace=False,
                                 help_text="File name on the PBX, no extension (lower-case letters, digits, - _).")
    kind = serializers.ChoiceField(choices=SoundFile.Kind.choices, default=SoundFile.Kind.PROMPT)
    moh_class = serializers.CharField(max_length=30, required=False, trim_whitespace=False,
                                      help_text="Music-on-hold class; required for kind moh, refused for a prompt.")


class SoundTtsSerializer(serializers.Serializer):
    """A prompt spoken by text to speech (eSpeak NG)."""

    name = serializers.CharField(max_length=63, trim_whitespace=False,
                                 help_text="File name on the PBX, no extension (lower-case letters, digits, - _).")
    text = serializers.CharField(trim_whitespace=False,
                                 help_text="What is said (SOUNDS_TTS_MAX_CHARS, 2000 by default).")
    language = serializers.CharField(required=False, max_length=40, trim_whitespace=False,
                                     help_text="eSpeak NG language (en-us, en-gb, fr-fr, de ...); default "
                                               "SOUNDS_TTS_LANGUAGE.")
    voice = serializers.CharField(required=False, allow_blank=True, max_length=40, trim_whitespace=False,
                                  help_text="eSpeak NG voice variant (f3, m1, klatt ...); default the language's.")


class MohClassSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The tenant's class name (a queue's music_on_hold).")
    pbx_name = serializers.CharField(help_text="The class in musiconhold.conf: <tenant>-<class>.")
    files = serializers.IntegerField()
    ready = serializers.IntegerField(help_text="Files converted (the class is on the PBX once one is).")
