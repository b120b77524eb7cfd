"""Tenant admin (/t/<tenant>/admin/): the SMS message log with status (read-only: messages are
written by sending and by the adapters), opt-outs, and the tenant's SMS settings."""
from __future__ import annotations

from django.contrib import admin

from apps.sms import services
from apps.sms.models import SmsMessage, SmsOptOut, SmsSettings
from thirdlane.admin import ReadOnlyAdminMixin, ScopedModelAdmin
from thirdlane.admin_sites import tenant_admin_site


class _NoDjangoLog:
    # Django's LogEntry points at public content types; the audit log is ours (see TelephonyAdmin).
    def log_addition(self, *args, **kwargs):
        return None

    log_change = log_deletion = log_addition


@admin.register(SmsMessage, site=tenant_admin_site)
class SmsMessageAdmin(_NoDjangoLog, ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("created_at", "direction", "did", "remote", "status", "segments", "error_message", "short_text")
    list_filter = ("direction", "status", "did", "encoding")
    search_fields = ("remote", "did", "text", "carrier_message_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    @admin.display(description="Text")
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 60 else obj.text[:59] + "…"


@admin.register(SmsOptOut, site=tenant_admin_site)
class SmsOptOutAdmin(_NoDjangoLog, ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("remote", "did", "keyword", "created_at")
    search_fields = ("remote", "did")
    readonly_fields = ("remote", "did", "keyword", "created_at")


@admin.register(SmsSettings, site=tenant_admin_site)
class SmsSettingsAdmin(_NoDjangoLog, ScopedModelAdmin):
    list_display = ("__str__", "max_segments", "rate_per_minute")
    fields = ("max_segments", "rate_per_minute")

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request) and not SmsSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from thirdlane.admin import principal_for

        services.sms_settings_update(actor=principal_for(request), tenant=request.tenant,
                                     max_segments=form.cleaned_data["max_segments"],
                                     rate_per_minute=form.cleaned_data["rate_per_minute"])
        obj.pk = 1
