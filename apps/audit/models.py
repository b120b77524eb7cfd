"""Audit log (public schema): who changed what, when, through which request."""
from __future__ import annotations

from django.db import models


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        ACTION = "action", "Action"

    class Source(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        SYSTEM = "system", "System"

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_type = models.CharField(max_length=16)  # user | api_key | system
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    reseller_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    tenant_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    tenant_slug = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    verb = models.CharField(max_length=40, blank=True, help_text="For actions: suspend, rotate, …")
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}#{self.object_id}"
