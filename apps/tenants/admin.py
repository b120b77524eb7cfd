from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from django import forms

from apps.accounts.models import Scope
from apps.tenants import services
from apps.tenants.models import Reseller, Tenant
from thirdlane.admin import ResellerOwnedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import counted
from thirdlane.api.errors import DomainError


@admin.register(Reseller)
class ResellerAdmin(ScopedModelAdmin):
    list_display = ("name", "slug", "tenant_count", "max_tenants", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug", "contact_email")
    prepopulated_fields = {"slug": ("name",)}
    create_service = services.reseller_create
    update_service = services.reseller_update
    delete_service = services.reseller_delete

    scope_fields = {"reseller": ""}

    def scope_queryset(self, queryset, principal):
        return super().scope_queryset(queryset.annotate(_tenants=Count("tenants")), principal)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request) and principal_for(request).is_system

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and principal_for(request).is_system

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not principal_for(request).is_system:
            fields.append("api_rate_limit")  # the platform sets a reseller's rate limit, not the reseller
        return fields

    @admin.display(description="Tenants", ordering="_tenants")
    def tenant_count(self, obj):
        return obj._tenants


class TenantForm(forms.ModelForm):
    """Checks the service would refuse, done on the form so the admin shows them on the field."""

    class Meta:
        model = Tenant
        fields = "__all__"

    def clean(self):
        data = super().clean()
        slug = data.get("slug")
        if self.instance.pk is None and slug:
            if slug in services.RESERVED_SLUGS:
                self.add_error("slug", "This slug is reserved.")
            reseller = data.get("reseller")
            if reseller and reseller.max_tenants is not None and reseller.tenants.count() >= reseller.max_tenants:
                self.add_error("reseller", f"{reseller.name} may have at most {reseller.max_tenants} tenants.")
        return data


@admin.register(Tenant)
class TenantAdmin(ResellerOwnedAdminMixin, ScopedModelAdmin):
    form = TenantForm
    list_display = ("name", "slug", "reseller", "status_badge", "primary_server", "max_extensions", "open_admin",
                    "created_at")
    list_filter = ("status", "reseller", "primary_server")
    search_fields = ("name", "slug", "reseller__name")
    list_select_related = ("reseller", "primary_server")
    autocomplete_fields = ("reseller",)
    readonly_fields = ("schema_name", "status", "suspended_reason", "created_at", "updated_at")
    actions = ("suspend_tenants", "resume_tenants")
    fieldsets = (
        (None, {"fields": ("name", "slug", "reseller", "status", "suspended_reason", "schema_name")}),
        ("Limits", {"fields": ("max_extensions", "max_dids", "max_queues", "max_trunks")}),
        ("Dial plan and locale", {"fields": ("extension_length", "default_region", "timezone", "primary_server")}),
        ("CRM call log", {"fields": ("crm_call_logging", "crm_call_log_directions")}),
        ("Billing and retention", {"fields": ("account_code", "cdr_retention_days", "call_retention_days")}),
        ("Notes", {"fields": ("notes", "created_at", "updated_at")}),
    )

    scope_fields = {"tenant": ""}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("slug")
        if principal_for(request).scope in (Scope.TENANT, Scope.ORGANIZATION):
            # The service refuses these too; read-only here so the form does not offer them.
            fields += [f for f in services.TENANT_FIELDS - services.TENANT_SELF_FIELDS if f not in fields]
        return fields

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        colour = "#2e7d32" if obj.status == Tenant.Status.ACTIVE else "#c62828"
        return format_html('<span style="color:{};font-weight:600">{}</span>', colour, obj.get_status_display())

    @admin.display(description="Tenant admin")
    def open_admin(self, obj):
        return format_html('<a href="/t/{}/admin/">Open</a>', obj.slug)

    # Writes go through the same services as the API (schema provisioning, audit, events).
    def save_model(self, request, obj, form, change):
        actor = principal_for(request)
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.TENANT_FIELDS}
        if change:
            services.tenant_update(actor=actor, tenant=obj, **data)
        else:
            created = services.tenant_create(
                actor=actor, slug=form.cleaned_data["slug"], name=form.cleaned_data["name"],
                reseller=form.cleaned_data["reseller"],
                **{k: v for k, v in form.cleaned_data.items() if k in services.TENANT_FIELDS - {"name", "reseller"}})
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.tenant_delete(actor=principal_for(request), tenant=obj)

    def _bulk(self, request, queryset, fn, verb):
        done = 0
        for tenant in queryset:
            try:
                fn(actor=principal_for(request), tenant=tenant)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{tenant.slug}: {exc.detail}", level=messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {counted(done, Tenant)}.", level=messages.SUCCESS)

    @admin.action(description="Suspend selected tenants")
    def suspend_tenants(self, request, queryset):
        self._bulk(request, queryset, services.tenant_suspend, "Suspended")

    @admin.action(description="Resume selected tenants")
    def resume_tenants(self, request, queryset):
        self._bulk(request, queryset, services.tenant_resume, "Resumed")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if principal_for(request).read_only:
            actions = {}
        return actions
