"""The transactional outbox (public schema).

A service writes an ``OutboxEvent`` in the same transaction as the change it describes, so an
event exists if and only if the change committed. Delivery (apps.webhooks) reads rows whose
``relayed_at`` is empty. Tenants are referenced by id and slug, not by a foreign key, so a
``tenant.deleted`` event outlives its tenant.
"""
from __future__ import annotations

import uuid

from django.db import models


class OutboxEvent(models.Model):
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=100, db_index=True)
    tenant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    tenant_slug = models.CharField(max_length=40, blank=True)
    reseller_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)
    # Marked for system webhooks (tenant, extension, DID and trunk lifecycle).
    system = models.BooleanField(default=False)
    occurred_at = models.DateTimeField(db_index=True)
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="outbox_pending", condition=models.Q(relayed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
