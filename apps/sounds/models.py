"""A tenant's sound files: IVR and announcement prompts, and music-on-hold files in classes.

One row per sound; its converted files (``wav``, ``ulaw``) live under the media directory
(apps/sounds/storage.py) and reach the PBX servers with the configuration push, where the
dialplan and musiconhold.conf reference them only once they are ``ready``.
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
# No "-" in a class: the PBX class <tenant>-<class> then splits at its last "-" (slugs have hyphens).
CLASS_PATTERN = r"^[a-z0-9][a-z0-9_]{0,29}$"
# Names of the prompts the portal speaks for IVRs by itself (``ivr-<id>``): not for uploads.
RESERVED_NAME = r"^ivr-[0-9]+$"

NAME = RegexValidator(NAME_PATTERN, "Lower-case letters, digits, - and _ (up to 63), starting with a letter or digit.")
CLASS_NAME = RegexValidator(CLASS_PATTERN, "Lower-case letters, digits and _ (up to 30), starting with a letter or digit.")


class SoundFile(models.Model):
    class Kind(models.TextChoices):
        PROMPT = "prompt", "Prompt (IVR greeting, announcement)"
        MOH = "moh", "Music on hold"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        TTS = "tts", "Text to speech"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for conversion"
        CONVERTING = "converting", "Converting"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=63, validators=[NAME],
                            help_text="File name on the PBX (no extension); an IVR's greeting_recording names it.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PROMPT)
    moh_class = models.CharField(max_length=30, blank=True, validators=[CLASS_NAME],
                                 help_text="Music-on-hold class (kind moh): played as <tenant>-<class>.")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UPLOAD)
    # The IVR this prompt was spoken for by the portal itself (name ivr-<id>); null for the tenant's own.
    ivr = models.OneToOneField("telephony.Ivr", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="auto_prompt", editable=False)
    text = models.TextField(blank=True, help_text="What text to speech says (source tts).")
    language = models.CharField(max_length=40, blank=True, help_text="eSpeak NG language, e.g. en-us.")
    voice = models.CharField(max_length=40, blank=True, help_text="eSpeak NG voice variant, e.g. f3 (optional).")
    original_name = models.CharField(max_length=255, blank=True)
    original_format = models.CharField(max_length=8, blank=True)
    original_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the converted WAV.")
    # format -> {"sha256": ..., "bytes": ...} of each converted file
    files = models.JSONField(default=dict, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "moh_class", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "moh_class", "name"], name="sounds_unique_name"),
            models.CheckConstraint(condition=(models.Q(kind="moh") & ~models.Q(moh_class=""))
                                   | (models.Q(kind="prompt") & models.Q(moh_class="")),
                                   name="sounds_moh_class_iff_moh"),
        ]

    def __str__(self) -> str:
        return f"{self.moh_class}/{self.name}" if self.kind == self.Kind.MOH else self.name

    @property
    def ready(self) -> bool:
        return self.status == self.Status.READY
