"""PBX servers, their locations and configuration pushes (public schema; system admins)."""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from thirdlane.crypto import EncryptedTextField


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=20, unique=True)
    description = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Server(models.Model):
    class Role(models.TextChoices):
        PBX = "pbx", "PBX (tenants' calls)"
        SBC = "sbc", "Session border controller"
        MEDIA = "media", "Media / conferencing"

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255, help_text="Management host name or address.")
    sip_address = models.CharField(max_length=255, help_text="Address phones and trunks send SIP to.")
    sip_port = models.PositiveIntegerField(default=5060, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    ami_host = models.CharField(max_length=255)
    ami_port = models.PositiveIntegerField(default=5038, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    ami_username = models.CharField(max_length=80)
    ami_secret = EncryptedTextField(blank=True)
    config_dir = models.CharField(max_length=255, default="/etc/asterisk/thirdlane")
    # Tenants' prompts and music on hold go to <sounds_dir>/<tenant>/ with each push (apps.sounds);
    # empty: this server gets no sound files, and the dialplan plays stock sounds instead.
    sounds_dir = models.CharField(max_length=255, default="/var/lib/asterisk/sounds/thirdlane", blank=True,
                                  help_text="Directory (on the worker that pushes) for tenants' sound files; "
                                            "empty: none are sent.")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="servers")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PBX)
    is_active = models.BooleanField(default=True)
    # Files written to config_dir whose module has not been reloaded yet. Survives a failed
    # push (server unreachable), so the next push reloads them even if nothing else changed.
    pending_reload = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConfigPush(models.Model):
    """One render-write-reload of a server's configuration, with its progress.

    Created ``queued`` by ``config_push_request``; the ``pbx.apply_config`` task moves it
    through ``running`` (and ``retrying`` while the server is unreachable) to ``succeeded`` or
    ``failed``. ``progress`` is a percentage clients can poll.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="pushes")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    stage = models.CharField(max_length=80, blank=True, help_text="What the push is doing or did last.")
    files_changed = models.JSONField(default=list, blank=True)
    sounds_changed = models.JSONField(default=list, blank=True,
                                      help_text="Sound files written or removed, relative to the server's sounds_dir.")
    modules_reloaded = models.JSONField(default=list, blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the rendered files.")
    tenant_count = models.PositiveIntegerField(default=0)
    tenant_ids = models.JSONField(default=list, blank=True, help_text="Tenants rendered by this push.")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "config pushes"
        indexes = [models.Index(fields=["server", "-created_at"])]

    def __str__(self) -> str:
        return f"push #{self.pk} to {self.server_id}: {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
