"""Integrator hooks in the tenant admin: written through the same services as the API."""
from django import forms
from django.contrib import admin

from apps.hooks import services
from apps.hooks.models import CustomDialplan, RoutingHook
from apps.telephony.admin import DestinationForm, TelephonyAdmin
from thirdlane.admin_sites import tenant_admin_site


class HooksAdmin(TelephonyAdmin):
    def _service(self, verb: str):
        return getattr(services, f"{self.noun}_{verb}")


@admin.register(CustomDialplan, site=tenant_admin_site)
class CustomDialplanAdmin(HooksAdmin):
    noun = "custom_dialplan"
    list_display = ("point", "description", "enabled", "updated_at")
    list_filter = ("point", "enabled")
    search_fields = ("description",)


class RoutingHookForm(DestinationForm):
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                             help_text="Write-only `whsec_...`. Empty: keep (generated on creation).")

    class Meta:
        model = RoutingHook
        fields = "__all__"


@admin.register(RoutingHook, site=tenant_admin_site)
class RoutingHookAdmin(HooksAdmin):
    noun = "routing_hook"
    form = RoutingHookForm
    list_display = ("name", "url", "timeout_ms", "fallback_label", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name", "url")

    @admin.display(description="fallback")
    def fallback_label(self, obj):
        return str(obj.fallback)
