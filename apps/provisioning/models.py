"""Desk phones of one tenant (tenant app) and the extensions on their line keys.

A phone is known by its MAC address, unique across the platform (the public index,
``provisioning_registry.Device``, holds it with the phone's provisioning credential). Each line
(SIP account) of the phone registers as one of the tenant's extensions; a phone may carry
several, and an extension may be on several phones (raise its ``max_contacts`` to match).
"""
from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from apps.provisioning import catalog
from thirdlane.crypto import EncryptedTextField


class Phone(models.Model):
    mac = models.CharField("MAC address", max_length=12, unique=True)
    vendor = models.CharField(max_length=20, choices=catalog.vendor_choices)
    model = models.CharField(max_length=32, choices=catalog.model_choices)
    name = models.CharField(max_length=100, blank=True, help_text="Where or whose it is, e.g. \"Reception desk\".")
    admin_password = EncryptedTextField(blank=True, help_text="The phone's own web admin password (set on the "
                                                             "phone by its configuration).")
    enabled = models.BooleanField(default=True, help_text="A disabled phone is not served its configuration.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["mac"]

    def __str__(self) -> str:
        return f"{self.model} {self.mac}" + (f" ({self.name})" if self.name else "")


class PhoneLine(models.Model):
    phone = models.ForeignKey(Phone, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)],
                                                help_text="The phone's SIP account (line key) number, from 1.")
    extension = models.ForeignKey("telephony.Extension", on_delete=models.PROTECT, related_name="phone_lines")
    label = models.CharField(max_length=40, blank=True, help_text="Shown on the phone; empty: the extension's number "
                                                                  "and name.")

    class Meta:
        ordering = ["phone", "position"]
        constraints = [
            models.UniqueConstraint(fields=["phone", "position"], name="provisioning_line_position_once"),
            models.UniqueConstraint(fields=["phone", "extension"], name="provisioning_line_extension_once"),
        ]
        verbose_name = "phone line"

    def __str__(self) -> str:
        return f"line {self.position}: {self.extension}"
