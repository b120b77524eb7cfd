"""Webhook subscriptions, their deliveries and every delivery attempt (public schema).

A ``Subscription`` is either a tenant webhook (``kind=tenant``: one tenant's events that match
its selectors) or a system webhook (``kind=system``: lifecycle events of every tenant in its
scope: all tenants, or one reseller's). The relay turns each committed outbox row into one
``Delivery`` per matching subscription; the ``(subscription, event)`` unique constraint makes
the relay idempotent. The Delivery row is the truth about what is owed: Celery messages only
nudge a worker to look at it, so a lost message delays a delivery and never drops it.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from thirdlane.crypto import EncryptedTextField


class Subscription(models.Model):
    class Kind(models.TextChoices):
        TENANT = "tenant", "Tenant webhook"
        SYSTEM = "system", "System webhook"

    class DisabledReason(models.TextChoices):
        NONE = "", "-"
        MANUAL = "manual", "Disabled by a user"
        GONE = "gone", "The endpoint answered 410 Gone"
        FAILING = "failing", "Failed continuously for too long"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TENANT)
    # Tenant webhooks: the tenant whose events it receives.
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="webhooks")
    # System webhooks: one reseller's tenants, or every tenant when empty (system admins only).
    reseller = models.ForeignKey("tenants.Reseller", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="system_webhooks")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=300, blank=True)
    # Selectors: exact types ("crm.contact.created"), groups ("crm.*", "config.extension.*") or "*".
    event_types = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Standard Webhooks secrets ("whsec_" + base64), encrypted at rest: we need them back to sign.
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Start of the current run of failed attempts; empty after any success.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "enabled", "tenant"], name="webhook_sub_match")]
        constraints = [
            models.CheckConstraint(
                name="webhook_sub_kind_owner",
                condition=(Q(kind="tenant", tenant__isnull=False, reseller__isnull=True)
                           | Q(kind="system", tenant__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        owner = self.tenant.slug if self.kind == self.Kind.TENANT and self.tenant_id else (
            f"system:{self.reseller.slug}" if self.reseller_id else "system")
        return f"{owner} -> {self.url}"

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign now: the current one, plus the previous one during its overlap."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    # Empty for test deliveries, which carry their sample in ``payload``.
    event = models.ForeignKey("events.OutboxEvent", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    event_type = models.CharField(max_length=100)
    # The webhook-id header: the same for every attempt of one delivery, so receivers can dedupe.
    message_id = models.CharField(max_length=64)
    payload = models.JSONField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a worker was last asked (through Celery) to look at this row; the sweep re-asks later.
    nudged_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due",
                         condition=Q(status="pending")),
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} ({self.status})"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    # The address actually connected to (after the target check).
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}: {self.status_code or self.error}"
