"""Tenant admin (/t/<tenant>/admin/) for call records, and the live page (calls in progress,
queues with waiting callers, members and agents), both read-only: calls come from the PBX."""
from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from apps.calls import selectors
from apps.calls.models import Call, CallLeg
from thirdlane.admin import ReadOnlyAdminMixin, ScopedAdminMixin, ScopedModelAdmin
from thirdlane.admin_display import short_datetime
from thirdlane.admin_sites import tenant_admin_site


class LegInline(ReadOnlyAdminMixin, ScopedAdminMixin, admin.TabularInline):
    model = CallLeg
    extra = 0
    fields = ("channel", "kind", "extension", "caller_number", "caller_name", "started_at", "answered_at",
              "ended_at", "hangup_cause_text", "held")
    readonly_fields = fields


@admin.register(Call, site=tenant_admin_site)
class CallAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("when", "direction", "caller", "callee", "disposition", "duration_text", "extensions_text",
                    "queue_agent")
    list_filter = ("direction", "disposition", "status", "queue")
    search_fields = ("caller_number", "callee_number", "caller_name", "callee_name", "did", "linkedid")
    date_hierarchy = "started_at"
    inlines = (LegInline,)
    readonly_fields = [f.name for f in Call._meta.fields]

    # Django's LogEntry points at public content types; the audit log is ours (see TelephonyAdmin).
    def log_addition(self, *args, **kwargs):
        return None

    log_change = log_deletion = log_addition

    @admin.display(description="Started", ordering="started_at")
    def when(self, obj):
        return short_datetime(obj.started_at)

    @admin.display(description="From")
    def caller(self, obj):
        return f"{obj.caller_number} {obj.caller_name}".strip() or "—"

    @admin.display(description="To")
    def callee(self, obj):
        return f"{obj.callee_number} {obj.callee_name}".strip() or "—"

    @admin.display(description="Duration (talk)", ordering="duration")
    def duration_text(self, obj):
        if obj.duration is None:
            return f"in progress ({obj.get_status_display().lower()})"
        return f"{obj.duration}s ({obj.billsec or 0}s)"

    @admin.display(description="Queue / agent")
    def queue_agent(self, obj):
        return " / ".join(filter(None, [obj.queue, obj.agent])) or "—"

    @admin.display(description="Extensions")
    def extensions_text(self, obj):
        return ", ".join(obj.extensions or []) or "—"

    def get_urls(self):
        return [path("live/", self.admin_site.admin_view(self.live_view), name="calls_call_live"), *super().get_urls()]

    def live_view(self, request):
        context = {**self.admin_site.each_context(request), "title": "Live calls and queues",
                   "calls": list(selectors.active_calls()), "queues": selectors.live_queues(request.tenant),
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/calls/live.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "live_url": "live/"}
        return super().changelist_view(request, extra_context)
