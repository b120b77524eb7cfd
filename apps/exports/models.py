"""Scheduled billing exports (public schema): what to export, when, where; and each run.

A schedule covers one tenant or all of a reseller's tenants; each run exports the rows written
since the last successful run (``cursors``: the last CDR id per tenant), so runs never overlap
and never leave a gap. The cursors move only when the destination has the whole file; a run a
worker died in is run again with the same range and the same file name (``ExportRun`` keeps
both), so the destination gets the same file, not a second one.
"""
from __future__ import annotations

import uuid

from django.db import models

from thirdlane.crypto import EncryptedTextField


class ExportSchedule(models.Model):
    class Dataset(models.TextChoices):
        CDRS = "cdrs", "CDRs"
        AGENT_STATS = "agent_stats", "Agent statistics"
        CALL_COUNTERS = "call_counters", "Call counters"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON lines"

    class Destination(models.TextChoices):
        HTTP = "http", "Signed HTTP POST"
        S3 = "s3", "S3-compatible bucket"
        SFTP = "sftp", "SFTP"
        DIRECTORY = "directory", "Directory on the server"

    name = models.CharField(max_length=100)
    reseller = models.ForeignKey("tenants.Reseller", on_delete=models.CASCADE, related_name="export_schedules")
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="export_schedules",
                               help_text="One tenant; empty: every tenant of the reseller.")
    dataset = models.CharField(max_length=16, choices=Dataset.choices, default=Dataset.CDRS)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    cron = models.CharField(max_length=100, default="0 2 * * *",
                            help_text="Five cron fields (minute hour day month weekday), in the time zone.")
    timezone = models.CharField(max_length=64, default="UTC")
    destination_type = models.CharField(max_length=16, choices=Destination.choices)
    destination = models.JSONField(default=dict, blank=True,
                                   help_text="Where: url; bucket/prefix/endpoint_url/region/access_key_id; "
                                             "host/port/username/path/host_key; path (directory).")
    secret = EncryptedTextField(blank=True, help_text="Signing secret (http), secret access key (s3) or password "
                                                      "(sftp). Write-only in the API.")
    enabled = models.BooleanField(default=True)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    cursors = models.JSONField(default=dict, blank=True,
                               help_text="Last exported CDR id per tenant id (moves only on success).")
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "export schedule"

    def __str__(self) -> str:
        return self.name


class ExportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Run now"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                           help_text="The message id of the delivery (the same on every attempt).")
    schedule = models.ForeignKey(ExportSchedule, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    stage = models.CharField(max_length=32, blank=True, help_text="writing / delivering / done")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0-100.")
    cursor_from = models.JSONField(default=dict, blank=True)
    cursor_to = models.JSONField(default=dict, blank=True)
    period_start = models.DateTimeField(null=True, blank=True, help_text="Statistics datasets: the interval.")
    period_end = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_path = models.CharField(max_length=500, blank=True, help_text="The run's file, kept for download.")
    rows = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "export run"
        constraints = [models.UniqueConstraint(fields=["schedule"], condition=models.Q(status__in=["queued", "running"]),
                                               name="export_one_open_run")]

    def __str__(self) -> str:
        return f"{self.schedule} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
