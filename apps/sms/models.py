"""SMS of one tenant (tenant app: these tables live in each tenant's schema).

A message is outbound (``queued`` → ``sent`` → ``delivered``/``failed``, with the carrier's
reason) or inbound (``received``). Inbound identity is ``(provider_id, carrier_message_id)``: a
carrier or adapter that posts the same message twice finds the row it made.
"""
from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class SmsSettings(models.Model):
    """The tenant's SMS rules (one row)."""

    max_segments = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Longest outbound text, in segments (GSM-7: 160 characters alone, 153 per part; UCS-2: 70/67).")
    rate_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100000)],
        help_text="Outbound messages a minute (empty: the platform default, SMS_RATE_PER_TENANT).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SMS settings"
        verbose_name_plural = "SMS settings"

    def __str__(self) -> str:
        return "SMS settings"


class SmsMessage(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

    class Encoding(models.TextChoices):
        GSM7 = "gsm7", "GSM-7"
        UCS2 = "ucs2", "UCS-2"

    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                           help_text="The portal's message id, sent to the adapter and echoed in receipts.")
    direction = models.CharField(max_length=8, choices=Direction.choices, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    did = models.CharField("DID", max_length=20, db_index=True, help_text="The tenant's number (E.164).")
    remote = models.CharField(max_length=20, db_index=True, help_text="The other party (E.164).")
    text = models.TextField()
    encoding = models.CharField(max_length=4, choices=Encoding.choices)
    segments = models.PositiveSmallIntegerField()
    provider_id = models.BigIntegerField(help_text="The SMS provider (public sms_providers_smsprovider.id).")
    carrier_message_id = models.CharField(max_length=100, null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True, help_text="The carrier's (or adapter's) reason.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True,
                                           help_text="A queued message waiting to be tried again (after a failure).")
    contact_id = models.BigIntegerField(null=True, blank=True, help_text="The CRM contact the remote number matched.")
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SMS message"
        # Inbound identity (idempotency). Outbound carrier ids are the adapter's word: a buggy adapter
        # that repeats one must not make recording a batch of sends fail after they were sent.
        constraints = [models.UniqueConstraint(fields=["provider_id", "direction", "carrier_message_id"],
                                               condition=Q(carrier_message_id__isnull=False, direction="inbound"),
                                               name="sms_inbound_carrier_id")]
        indexes = [models.Index(fields=["did", "remote", "-created_at"], name="sms_conversation"),
                   models.Index(fields=["id"], condition=Q(status="queued"), name="sms_queued")]

    def __str__(self) -> str:
        arrow = "→" if self.direction == self.Direction.OUTBOUND else "←"
        return f"{self.did} {arrow} {self.remote} ({self.status})"

    @property
    def message_id(self) -> str:
        return f"sms_{self.ref.hex}"


class SmsOptOut(models.Model):
    """A remote number that sent STOP to one of the tenant's numbers (START removes it)."""

    did = models.CharField("DID", max_length=20)
    remote = models.CharField(max_length=20)
    keyword = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SMS opt-out"
        constraints = [models.UniqueConstraint(fields=["did", "remote"], name="sms_opt_out_did_remote")]

    def __str__(self) -> str:
        return f"{self.remote} → {self.did}"
