"""Integrator hooks of one tenant (tenant app: these tables live in each tenant's schema).

- ``CustomDialplan``: the tenant's own dialplan lines, run (Gosub) at a defined point: before an
  inbound DID is routed, before an outbound route dials. Checked by the config checker before
  they are stored (hooks/dialplan_check.py) and confined to the tenant's own contexts.
- ``RoutingHook``: an HTTP endpoint of the tenant, asked through FastAGI where an inbound call
  should go (hooks/routing.py); answers are the tenant's own objects only.
"""
from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.telephony.destinations import DestinationRef
from thirdlane.crypto import EncryptedTextField

MAX_DIALPLAN_LINES = 200
MAX_DIALPLAN_CHARS = 20000


class CustomDialplan(models.Model):
    class Point(models.TextChoices):
        INBOUND_DID = "inbound_did", "Before routing an inbound DID"
        OUTBOUND_ROUTE = "outbound_route", "Before an outbound route dials"

    point = models.CharField(max_length=20, choices=Point.choices, unique=True,
                             help_text="Where the lines run: one custom dialplan per point.")
    description = models.CharField(max_length=200, blank=True)
    dialplan = models.TextField(max_length=MAX_DIALPLAN_CHARS,
                                help_text="`exten => s,1,...` / `same => n,...` lines run with Gosub: ARG1 is the "
                                          "DID (inbound) or the dialled number (outbound); end with Return() to "
                                          "continue the normal routing.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["point"]

    def __str__(self) -> str:
        return self.get_point_display()


class RoutingHook(models.Model):
    name = models.CharField(max_length=60, unique=True)
    url = models.URLField(max_length=500, help_text="Called (POST, signed like webhooks) for every inbound DID call.")
    secret = EncryptedTextField(help_text="Standard Webhooks signing secret (whsec_...).")
    timeout_ms = models.PositiveIntegerField(default=1500, validators=[MinValueValidator(100), MaxValueValidator(5000)],
                                             help_text="Milliseconds the call waits for the answer.")
    fallback = DestinationRef("fallback", required=False, verbose_name="fallback destination")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
