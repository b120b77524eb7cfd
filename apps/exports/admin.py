"""Admin for billing exports: schedules with their last runs, "run now" with a progress bar, and a
download of any run's file. Rows are the user's scope (a reseller sees its own schedules); writes
go through apps.exports.services, like the API."""
from __future__ import annotations

import json
import os

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.exports import services
from apps.exports.models import ExportRun, ExportSchedule
from thirdlane.admin import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import short_datetime
from thirdlane.api.errors import DomainError


def _bar(run: ExportRun) -> str:
    return format_html('<progress max="100" value="{}" style="width:70px"></progress> {}%', run.progress,
                       run.progress)


def _download(run: ExportRun, label: str = "download") -> str:
    if not run.file_path:
        return "—"
    url = reverse("admin:exports_exportrun_download", args=[run.pk])
    return format_html('<a href="{}" title="{}">{}</a>', url, run.file_name, label)


class ExportScheduleForm(forms.ModelForm):
    destination = forms.JSONField(
        help_text='http: {"url": "https://billing.example.com/cdrs"}; s3: {"bucket", "prefix", "endpoint_url", '
                  '"region", "access_key_id"}; sftp: {"host", "port", "username", "path", "host_key"}; directory: '
                  '{"path": "billing"}.')
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                             help_text="Signing secret, S3 secret key or SFTP password. Empty keeps the stored one.")

    class Meta:
        model = ExportSchedule
        fields = ("name", "reseller", "tenant", "dataset", "format", "cron", "timezone", "destination_type",
                  "destination", "secret", "enabled", "max_attempts")


class ExportRunInline(ScopedAdminMixin, admin.TabularInline):
    model = ExportRun
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("created", "status", "trigger", "progress_bar", "rows", "bytes", "sha256", "file", "attempts", "error")
    readonly_fields = fields
    ordering = ("-created_at",)

    @admin.display(description="queued")
    def created(self, obj):
        return short_datetime(obj.created_at)

    @admin.display(description="progress")
    def progress_bar(self, obj):
        return _bar(obj)

    @admin.display(description="file")
    def file(self, obj):
        return _download(obj)


@admin.register(ExportSchedule)
class ExportScheduleAdmin(ScopedModelAdmin):
    form = ExportScheduleForm
    list_display = ("name", "reseller", "scope", "what", "where", "when", "next_run", "last_run")
    list_filter = ("dataset", "destination_type", "enabled", "reseller")
    search_fields = ("name", "tenant__slug", "reseller__slug")
    autocomplete_fields = ("reseller", "tenant")
    inlines = [ExportRunInline]
    actions = ["run_now"]
    scope_fields = {"reseller": "reseller"}
    create_service = staticmethod(services.schedule_create)
    update_service = staticmethod(services.schedule_update)
    delete_service = staticmethod(services.schedule_delete)

    def service_fields(self, form, change):
        fields = super().service_fields(form, change)
        if form.cleaned_data.get("secret"):
            fields["secret"] = form.cleaned_data["secret"]
        else:
            fields.pop("secret", None)
        return fields

    @admin.display(description="dataset")
    def what(self, obj):
        return f"{obj.get_dataset_display()} ({obj.format})"

    @admin.display(description="to", ordering="destination_type")
    def where(self, obj):
        return obj.destination_type

    @admin.display(description="schedule")
    def when(self, obj):
        return f"{obj.cron} ({obj.timezone})"

    @admin.display(description="scope")
    def scope(self, obj):
        return obj.tenant.slug if obj.tenant_id else "all tenants"

    @admin.display(description="next run", ordering="next_run_at")
    def next_run(self, obj):
        if not obj.enabled:
            return "disabled"
        return short_datetime(obj.next_run_at) if obj.next_run_at else "—"

    @admin.display(description="last run")
    def last_run(self, obj):
        run = obj.runs.order_by("-created_at").first()
        if run is None:
            return "—"
        return format_html("{} · {} rows", run.status, run.rows)

    @admin.action(description="Run the selected exports now")
    def run_now(self, request, queryset):
        started = 0
        for schedule in queryset:
            try:
                services.run_now(actor=principal_for(request), schedule=schedule)
                started += 1
            except DomainError as exc:
                self.message_user(request, f"{schedule}: {exc.detail}", messages.WARNING)
        if started:
            self.message_user(request, f"Started {started} export run(s); their progress is on each schedule.",
                              messages.SUCCESS)


@admin.register(ExportRun)
class ExportRunAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("id", "schedule", "status", "progress_bar", "rows", "size", "attempts", "queued", "file")
    list_filter = ("status", "trigger")
    search_fields = ("schedule__name", "file_name", "sha256")
    scope_fields = {"reseller": "schedule__reseller"}
    readonly_fields = ("schedule", "uid", "status", "trigger", "stage", "progress", "rows", "bytes", "sha256",
                       "file_name", "cursor_range", "period_start", "period_end", "attempts", "error", "requested_by",
                       "created_at", "started_at", "finished_at")
    fields = readonly_fields

    @admin.display(description="progress")
    def progress_bar(self, obj):
        return _bar(obj)

    @admin.display(description="size")
    def size(self, obj):
        return f"{obj.bytes / 1024:.1f} KiB" if obj.bytes else "—"

    @admin.display(description="queued", ordering="created_at")
    def queued(self, obj):
        return short_datetime(obj.created_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, obj):
        return short_datetime(obj.finished_at) if obj.finished_at else "—"

    @admin.display(description="file")
    def file(self, obj):
        return _download(obj)

    @admin.display(description="range (last CDR id per tenant id)")
    def cursor_range(self, obj):
        return f"{json.dumps(obj.cursor_from)} → {json.dumps(obj.cursor_to)}"

    def get_urls(self):
        return [path("<int:run_id>/download/", self.admin_site.admin_view(self.download),
                     name="exports_exportrun_download"), *super().get_urls()]

    def download(self, request, run_id: int):
        run = self.get_queryset(request).filter(pk=run_id).first()
        if run is None or not run.file_path or not os.path.exists(run.file_path):
            raise Http404("No file for this run.")
        return FileResponse(open(run.file_path, "rb"), as_attachment=True, filename=run.file_name)
