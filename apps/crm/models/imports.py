"""Contact imports: saved column maps, jobs, the uploaded file and per-row issues.

The uploaded file is stored in the tenant's schema as 1 MiB ``bytea`` chunks, so any worker
(on any host) can stream it back with constant memory, and the error CSV can be rebuilt from it
(the original row plus its messages) without keeping a copy of every row.
"""
from __future__ import annotations

from django.db import models


class ImportMap(models.Model):
    class DedupeOn(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        EXTERNAL_ID = "external_id", "External id"
        NONE = "none", "None"

    class OnMatch(models.TextChoices):
        UPDATE = "update", "Update the existing contact"
        SKIP = "skip", "Skip the row"
        CREATE = "create", "Create another contact"

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    # {"<header>": {"field": "email" | "cf:<name>" | "", "transforms": [...], "default": "", "date_format": ""}}
    columns = models.JSONField(default=dict)
    dedupe_on = models.CharField(max_length=16, choices=DedupeOn.choices, default=DedupeOn.EMAIL)
    on_match = models.CharField(max_length=8, choices=OnMatch.choices, default=OnMatch.UPDATE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Uploaded, not started"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        UNDONE = "undone", "Undone"

    class PreviewStatus(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        COMMIT_VALID = "commit_valid", "Commit the valid rows"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    phase = models.CharField(max_length=32, blank=True, help_text="What a running job is doing now.")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.COMMIT_VALID)
    import_map = models.ForeignKey(ImportMap, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    columns = models.JSONField(default=dict, help_text="The column map used (a copy, so later map edits don't "
                                                       "change what this job did).")
    dedupe_on = models.CharField(max_length=16, choices=ImportMap.DedupeOn.choices, default=ImportMap.DedupeOn.EMAIL)
    on_match = models.CharField(max_length=8, choices=ImportMap.OnMatch.choices, default=ImportMap.OnMatch.UPDATE)
    file_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True, help_text="Why the whole file was refused, if it was.")
    actor_kind = models.CharField(max_length=16, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # A preview of a big file runs as a job too (imports.import_preview_queue): its state, the
    # rows read so far, and the result (the preview, or {"error": {"code", "detail"}}). The token
    # names the latest request, so a superseded run (the map changed) never writes its result.
    preview_status = models.CharField(max_length=8, choices=PreviewStatus.choices, blank=True)
    preview_rows_done = models.PositiveIntegerField(default=0)
    preview = models.JSONField(null=True, blank=True)
    preview_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.file_name or 'upload'})"

    @property
    def percent(self) -> float:
        if self.status in (self.Status.COMPLETED, self.Status.UNDONE):
            return 100.0
        if not self.rows_total:
            return 0.0
        return round(min(100.0, 100.0 * self.rows_done / self.rows_total), 1)

    @property
    def preview_percent(self) -> float:
        """Rows read by the preview; 99 at most until the result is stored (the SQL checks follow)."""
        if self.preview_status in (self.PreviewStatus.READY, self.PreviewStatus.FAILED):
            return 100.0
        if not self.rows_total:
            return 0.0
        return round(min(99.0, 100.0 * self.preview_rows_done / self.rows_total), 1)


class ImportFileChunk(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["job", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="crm_importchunk_uniq")]


class ImportRowIssue(models.Model):
    """A row that was refused (``error``) or skipped on purpose (``skipped``), with its messages."""

    class Level(models.TextChoices):
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField(help_text="Data row number, 1 = the first row after the header.")
    line = models.PositiveIntegerField(default=0, help_text="Line of the file where the row starts.")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.ERROR)
    # [{"column": header or "", "field": target field or "", "code": ..., "message": ...}]
    messages = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "row"]
        indexes = [models.Index(fields=["job", "row"], name="crm_importissue_row")]
