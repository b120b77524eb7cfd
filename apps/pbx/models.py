"""PBX servers and their locations (public schema; managed by system admins)."""
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
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="servers")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PBX)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
