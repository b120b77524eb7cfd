"""Platform admin for SMS providers. Rows are limited to the user's scope (a reseller sees its
own providers and its tenants'); writes go through apps.sms.providers.services like everything
else. The provider key and a new secret are shown once, in the success message."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.sms.providers import services
from apps.sms.providers.models import SmsProvider
from thirdlane.admin import ScopedModelAdmin, principal_for
from thirdlane.api.errors import DomainError

FORM_FIELDS = ("name", "tenant", "reseller", "url", "require_signature", "enabled", "timeout_seconds")


class SmsProviderForm(forms.ModelForm):
    class Meta:
        model = SmsProvider
        fields = FORM_FIELDS

    def clean(self):
        data = super().clean()
        if data.get("tenant") and data.get("reseller"):
            self.add_error("reseller", "A provider belongs to one tenant, one reseller, or (neither) the system.")
        return data


@admin.register(SmsProvider)
class SmsProviderAdmin(ScopedModelAdmin):
    form = SmsProviderForm
    list_display = ("name", "owner", "url", "enabled", "require_signature", "created_at")
    list_filter = ("enabled", "kind", "reseller")
    search_fields = ("name", "url", "tenant__slug")
    list_select_related = ("tenant", "reseller")
    autocomplete_fields = ("tenant", "reseller")
    readonly_fields = ("inbound", "key_prefix", "previous_secret_expires_at", "created_by", "created_at",
                       "updated_at", "adapters")
    actions = ("rotate_secret", "rotate_key")
    scope_fields = {"tenant": "tenant", "reseller": "reseller"}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["tenant", "reseller"] if obj is not None else fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        principal = principal_for(request)
        if not principal.is_system and "tenant" in form.base_fields:
            from apps.tenants.models import Reseller, Tenant

            form.base_fields["tenant"].queryset = principal.visible_tenants(Tenant.objects.all())
            form.base_fields["reseller"].queryset = Reseller.objects.filter(pk=principal.reseller_id)
        return form

    @admin.display(description="Serves")
    def owner(self, obj):
        if obj.tenant_id:
            return f"tenant {obj.tenant.slug}"
        return f"reseller {obj.reseller.slug}" if obj.reseller_id else "every tenant (system)"

    @admin.display(description="Inbound URL (for the adapter's PORTAL_INBOUND_URL)")
    def inbound(self, obj):
        return f"/api/sms/inbound/{obj.public_id}" if obj.pk else "-"

    @admin.display(description="Reference adapters")
    def adapters(self, obj):
        return format_html(" · ".join(['<a href="/api/sms/adapters/{}.zip">{}</a>'] * 3) + " (docs/sms.md)",
                           "perl", "Perl", "python", "Python", "node", "Node.js")

    def save_model(self, request, obj, form, change):
        actor = principal_for(request)
        data = {name: form.cleaned_data.get(name) for name in FORM_FIELDS if name in form.cleaned_data}
        try:
            if change:
                data.pop("tenant", None), data.pop("reseller", None)
                services.provider_update(actor=actor, instance=obj, **data)
            else:
                if not actor.is_system and not data.get("tenant"):
                    data["reseller"] = data.get("reseller") or obj.reseller
                    if data["reseller"] is None or data["reseller"].pk != actor.reseller_id:
                        self.message_user(request, "Only system admins add providers for every tenant.",
                                          messages.ERROR)
                        return
                created = services.provider_create(actor=actor, **data)
                obj.pk = created.pk
                self.message_user(request, f"Provider key (shown once): {created.key} — signing secret (shown once): "
                                           f"{created.secret} — inbound URL: /api/sms/inbound/{created.public_id}",
                                  messages.WARNING)
        except DomainError as exc:
            self.message_user(request, f"Not saved: {exc.detail}", messages.ERROR)

    def delete_model(self, request, obj):
        services.provider_delete(actor=principal_for(request), instance=obj)

    @admin.action(description="Rotate signing secrets (old ones keep signing for 24 h)")
    def rotate_secret(self, request, queryset):
        for provider in queryset:
            provider = services.provider_rotate_secret(actor=principal_for(request), instance=provider)
            self.message_user(request, f"{provider.name}: new secret (shown once): {provider.secret}", messages.WARNING)

    @admin.action(description="Rotate provider keys (old ones stop working at once)")
    def rotate_key(self, request, queryset):
        for provider in queryset:
            provider = services.provider_rotate_key(actor=principal_for(request), instance=provider)
            self.message_user(request, f"{provider.name}: new provider key (shown once): {provider.key}",
                              messages.WARNING)

    def get_actions(self, request):
        return {} if principal_for(request).read_only else super().get_actions(request)
