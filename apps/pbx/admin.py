"""Platform admin for PBX servers, locations and configuration pushes (system admins only)."""
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html, format_html_join

from apps.pbx import services, validators
from apps.pbx.models import ConfigPush, Location, Server
from apps.tenants.models import Tenant
from thirdlane.admin import ReadOnlyAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import short_datetime, truncated


@admin.register(Location)
class LocationAdmin(ScopedModelAdmin):
    system_only = True
    list_display = ("name", "code", "timezone", "server_count", "description")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}

    def scope_queryset(self, queryset, principal):
        return queryset.annotate(_servers=Count("servers"))

    @admin.display(description="Servers", ordering="_servers")
    def server_count(self, obj):
        return obj._servers

    create_service = services.location_create
    update_service = services.location_update
    delete_service = services.location_delete


class ServerForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back into the page.
    ami_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                                 help_text="Leave empty to keep the current secret.")

    class Meta:
        model = Server
        fields = ("name", "location", "role", "is_active", "host", "sip_address", "sip_port", "ami_host", "ami_port",
                  "ami_username", "ami_secret", "config_dir", "sounds_dir")

    def clean_ami_secret(self):
        value = self.cleaned_data.get("ami_secret")
        return value or (self.instance.ami_secret if self.instance.pk else "")

    def clean(self):
        data = super().clean()
        checks = {"name": validators.validate_server_name, "host": validators.validate_host,
                  "sip_address": validators.validate_host, "ami_host": validators.validate_host,
                  "config_dir": validators.validate_config_dir, "sounds_dir": validators.validate_sounds_dir}
        for name, check in checks.items():
            if data.get(name):
                try:
                    check(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return data


class HostedTenantInline(admin.TabularInline):
    """The tenants this server hosts (change a tenant's primary server on the tenant)."""

    model = Tenant
    fk_name = "primary_server"
    fields = ("slug", "name", "reseller", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "hosted tenant"
    verbose_name_plural = "hosted tenants"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return principal_for(request).is_system

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reseller").order_by("slug")


@admin.register(Server)
class ServerAdmin(ScopedModelAdmin):
    system_only = True
    form = ServerForm
    create_service = services.server_create
    update_service = services.server_update
    delete_service = services.server_delete
    list_display = ("name", "host", "sip_address", "location", "role", "is_active", "tenant_count", "last_push")
    list_filter = ("role", "location", "is_active")
    search_fields = ("name", "host", "sip_address")
    list_select_related = ("location",)
    readonly_fields = ("pending_reload", "recent_pushes", "created_at", "updated_at")
    inlines = (HostedTenantInline,)
    actions = ("push_config", "test_ami_connection")
    fieldsets = (
        (None, {"fields": ("name", "location", "role", "is_active")}),
        ("SIP", {"fields": ("host", "sip_address", "sip_port")}),
        ("AMI", {"fields": ("ami_host", "ami_port", "ami_username", "ami_secret")}),
        ("Configuration", {"fields": ("config_dir", "sounds_dir", "pending_reload", "recent_pushes", "created_at", "updated_at")}),
    )

    def scope_queryset(self, queryset, principal):
        return queryset.annotate(_tenants=Count("tenants"))

    @admin.display(description="Tenants", ordering="_tenants")
    def tenant_count(self, obj):
        return obj._tenants

    @admin.display(description="Last push")
    def last_push(self, obj):
        push = obj.pushes.order_by("-created_at", "-id").first()
        if push is None:
            return "-"
        return f"{push.status} ({push.progress}%)"

    @admin.display(description="Recent pushes")
    def recent_pushes(self, obj):
        pushes = obj.pushes.order_by("-created_at", "-id")[:10] if obj.pk else []
        if not pushes:
            return "-"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td></tr>",
            ((p.created_at.strftime("%Y-%m-%d %H:%M:%S"), p.status, p.progress,
              ", ".join(p.files_changed or []) or "-", p.error[:120] or "") for p in pushes))
        return format_html("<table><tr><th>queued</th><th>status</th><th>progress</th><th>files changed</th>"
                           "<th>error</th></tr>{}</table>", rows)

    @admin.action(description="Push configuration (render, write, reload)")
    def push_config(self, request, queryset):
        actor = principal_for(request)
        for server in queryset:
            push = services.config_push_request(actor=actor, server=server)
            self.message_user(request, f"Server {server.name}: push #{push.pk} queued.", level=messages.SUCCESS)

    @admin.action(description="Test AMI connection")
    def test_ami_connection(self, request, queryset):
        from apps.pbx.apply import check_connection

        for server in queryset[:20]:
            result = check_connection(server)
            if result["ok"]:
                self.message_user(request, f"Server {server.name}: AMI {result['ami_version']} answered in "
                                           f"{result['latency_ms']} ms.", level=messages.SUCCESS)
            else:
                self.message_user(request, f"Server {server.name}: {result['error']}", level=messages.ERROR)


@admin.register(ConfigPush)
class ConfigPushAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    system_only = True
    list_display = ("id", "server", "status", "progress", "files", "requested_by", "queued", "finished")
    list_filter = ("status", "server")
    search_fields = ("server__name", "requested_by", "request_id")
    list_select_related = ("server",)
    date_hierarchy = "created_at"

    @admin.display(description="Files changed")
    def files(self, obj):
        return truncated(", ".join(obj.files_changed or []), "16em")

    @admin.display(description="Queued", ordering="created_at")
    def queued(self, obj):
        return short_datetime(obj.created_at)

    @admin.display(description="Finished", ordering="finished_at")
    def finished(self, obj):
        return short_datetime(obj.finished_at)
