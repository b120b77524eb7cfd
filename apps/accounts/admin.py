from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html

from apps.accounts import services
from apps.accounts.models import ApiKey, Scope, User
from apps.tenants.models import Reseller, Tenant
from thirdlane.admin import ScopedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import short_datetime
from thirdlane.api.errors import DomainError


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    list_display = ("username", "email", "role", "scope_of", "is_active", "last_seen")
    list_filter = ("role", "is_active", "reseller")
    search_fields = ("username", "email", "first_name", "last_name")
    autocomplete_fields = ("reseller", "tenant")
    fieldsets = DjangoUserAdmin.fieldsets + (("Role and scope", {"fields": ("role", "reseller", "tenant")}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Role and scope", {"fields": ("role", "reseller", "tenant")}),)

    @admin.display(description="Scope")
    def scope_of(self, obj):
        if obj.tenant_id:
            return f"Tenant {obj.tenant.name}"
        return f"Reseller {obj.reseller.name}" if obj.reseller_id else "System"

    @admin.display(description="Last login", ordering="last_login")
    def last_seen(self, obj):
        return short_datetime(obj.last_login)

    scope_fields = {"tenant": "tenant", "reseller": "reseller"}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not principal_for(request).is_system:
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def save_model(self, request, obj, form, change):
        principal = principal_for(request)
        if not principal.is_system:
            # A reseller admin can only create users inside its own reseller.
            if obj.role == User.Role.SYSTEM_ADMIN or obj.is_superuser:
                obj.role, obj.is_superuser = User.Role.READ_ONLY, False
            if obj.tenant_id and obj.tenant.reseller_id != principal.reseller_id:
                obj.tenant = None
            obj.reseller_id = principal.reseller_id if not obj.tenant_id else None
        obj.is_staff = obj.role != User.Role.READ_ONLY or obj.is_staff
        super().save_model(request, obj, form, change)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "scope", "reseller", "tenant", "organization", "read_only", "rate_limit", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "key_prefix", "scope", "owner", "read_only", "state_badge", "expires_at", "last_used_at",
                    "created_at")
    list_filter = ("scope", "read_only", ("revoked_at", admin.EmptyFieldListFilter), "reseller")
    search_fields = ("name", "prefix", "tenant__slug", "reseller__name")
    list_select_related = ("tenant", "reseller", "organization")
    autocomplete_fields = ("reseller", "tenant")
    actions = ("rotate_keys", "revoke_keys")

    scope_fields = {"tenant": "tenant", "reseller": "reseller", "organization": "organization"}

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        principal = principal_for(request)
        if principal.scope not in (Scope.SYSTEM, Scope.RESELLER):
            form.base_fields.pop("rate_limit", None)  # the service refuses it from tenant credentials
        if not principal.is_system:
            for name in ("reseller", "tenant"):
                if name in form.base_fields:
                    qs = Reseller.objects.filter(pk=principal.reseller_id) if name == "reseller" else \
                        principal.visible_tenants(Tenant.objects.all())
                    form.base_fields[name].queryset = qs
        return form

    @admin.display(description="Key")
    def key_prefix(self, obj):
        return obj.display

    @admin.display(description="Owner")
    def owner(self, obj):
        return obj.tenant or obj.reseller or obj.organization or "System"

    @admin.display(description="State")
    def state_badge(self, obj):
        state = obj.state()
        colour = {"active": "#2e7d32", "expired": "#ef6c00", "revoked": "#c62828"}[state]
        return format_html('<span style="color:{}">{}</span>', colour, state)

    def save_model(self, request, obj, form, change):
        """A new key is shown once, here, and never again."""
        data = form.cleaned_data
        try:
            issued = services.api_key_create(
                actor=principal_for(request), name=data["name"], scope=data["scope"], reseller=data.get("reseller"),
                tenant=data.get("tenant"), organization=data.get("organization"), read_only=data.get("read_only", False),
                expires_at=data.get("expires_at"), rate_limit=data.get("rate_limit"))
        except DomainError as exc:
            self.message_user(request, f"Key not created: {exc.detail}", level=messages.ERROR)
            return
        obj.pk = issued.api_key.pk
        self.message_user(request, format_html(
            "New API key (copy it now, it will not be shown again): <code>{}</code>", issued.key),
            level=messages.WARNING)

    def response_add(self, request, obj, post_url_continue=None):
        from django.http import HttpResponseRedirect
        from django.urls import reverse

        return HttpResponseRedirect(reverse("admin:accounts_apikey_changelist"))

    def delete_model(self, request, obj):
        services.api_key_revoke(actor=principal_for(request), api_key=obj)

    @admin.action(description="Rotate selected keys (old keys keep working for the grace period)")
    def rotate_keys(self, request, queryset):
        for api_key in queryset:
            try:
                issued = services.api_key_rotate(actor=principal_for(request), api_key=api_key)
            except DomainError as exc:
                self.message_user(request, f"{api_key}: {exc.detail}", level=messages.WARNING)
                continue
            self.message_user(request, format_html(
                "Replacement for {} (shown once): <code>{}</code>", api_key.name, issued.key), level=messages.WARNING)

    @admin.action(description="Revoke selected keys now")
    def revoke_keys(self, request, queryset):
        for api_key in queryset:
            services.api_key_revoke(actor=principal_for(request), api_key=api_key)
        self.message_user(request, "Revoked.", level=messages.SUCCESS)
