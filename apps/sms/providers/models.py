"""SMS providers and the public index of outbound messages.

A provider belongs to one tenant, one reseller (all its tenants) or the system (every tenant);
a tenant uses its own, else its reseller's, else the system's (``selectors.provider_for``).
The built-in kind is the custom HTTP provider: the portal POSTs outbound messages to ``url``
(an adapter, adapters/sms/) signed with the Standard Webhooks scheme and the provider's own
secret; the adapter POSTs inbound messages and receipts to ``/api/sms/inbound/<public_id>`` with
the provider key (stored hashed, shown once).
"""
from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from thirdlane.crypto import EncryptedTextField


class SmsProvider(models.Model):
    class Kind(models.TextChoices):
        CUSTOM_HTTP = "custom_http", "Custom HTTP (adapter)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                 help_text="Names the provider in its inbound URL.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CUSTOM_HTTP)
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="sms_providers", help_text="Only this tenant's messages.")
    reseller = models.ForeignKey("tenants.Reseller", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="sms_providers", help_text="Every tenant of this reseller.")
    url = models.URLField(max_length=500, help_text="The adapter's URL; outbound messages are POSTed to it.")
    secret = EncryptedTextField(help_text="whsec_...: signs what the portal sends (and, optionally, what the "
                                          "adapter sends back).")
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    key_prefix = models.CharField(max_length=16, blank=True, editable=False)
    key_hash = models.CharField(max_length=64, blank=True, editable=False,
                                help_text="SHA-256 of the provider key the adapter sends back.")
    require_signature = models.BooleanField(
        default=False, help_text="Inbound POSTs must also carry a valid Standard Webhooks signature made with "
                                 "the provider's secret.")
    enabled = models.BooleanField(default=True)
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "SMS provider"
        constraints = [models.CheckConstraint(condition=Q(tenant__isnull=True) | Q(reseller__isnull=True),
                                              name="sms_provider_one_owner")]

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self) -> str:
        return "tenant" if self.tenant_id else "reseller" if self.reseller_id else "system"


class SmsOutboundRef(models.Model):
    """Where an outbound message lives: the carrier's receipt names the carrier's id (or our
    reference), not the tenant, so receipts are routed through this one public row per message."""

    ref = models.UUIDField(primary_key=True)
    provider = models.ForeignKey(SmsProvider, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField()
    carrier_message_id = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "carrier_message_id"],
                                               name="sms_ref_provider_carrier_id")]
