"""The platform's index of provisioned phones (public schema).

A phone knows only its MAC address and the credential it was given, not its tenant, and every
phone of every tenant asks the same provisioning URL. This table answers "whose phone is
this?" in one indexed look-up, keeps MAC addresses unique across the platform (its unique
index), and holds what authenticates the phone, so a request is authenticated before any
tenant's data is read. The phone's configuration itself (model, lines) lives in the tenant's
schema (``provisioning.Phone``); both rows are written by the same service, in one transaction.
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from thirdlane.crypto import EncryptedTextField


class Device(models.Model):
    mac = models.CharField(max_length=12, unique=True, help_text="12 lower-case hex digits.")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    phone_id = models.BigIntegerField(help_text="The phone's id in the tenant's schema.")
    # Encrypted, not hashed: HTTP digest authentication needs the password itself.
    password = EncryptedTextField(help_text="The phone's provisioning password.")
    # After a change, the old password keeps working until then: the phone still has it, and
    # learns the new one from the file it fetches with it.
    previous_password = EncryptedTextField(blank=True, default="")
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Last configuration file served.")
    last_seen_ip = models.GenericIPAddressField(null=True, blank=True)
    last_user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["mac"]
        verbose_name = "provisioned phone"
        constraints = [models.UniqueConstraint(fields=["tenant", "phone_id"], name="provisioning_device_phone_once")]

    def __str__(self) -> str:
        return self.mac

    def passwords(self, now=None) -> list[str]:
        """What the phone may authenticate with now: the password, and the previous one in its grace."""
        now = now or timezone.now()
        if self.previous_password and self.previous_valid_until and self.previous_valid_until > now:
            return [self.password, self.previous_password]
        return [self.password]

    def rotate(self, password: str, *, grace_seconds: int) -> None:
        if grace_seconds > 0 and self.password:
            self.previous_password = self.password
            self.previous_valid_until = timezone.now() + timezone.timedelta(seconds=grace_seconds)
        else:
            self.previous_password, self.previous_valid_until = "", None
        self.password = password
