from django.contrib import admin
from django.utils.html import format_html

from apps.audit.models import AuditEntry
from thirdlane.admin import ReadOnlyAdminMixin, ScopedModelAdmin
from thirdlane.admin_display import model_label, short_datetime, truncated


class ObjectTypeFilter(admin.SimpleListFilter):
    """The object types present, by their human names ("Extension", not "telephony.extension")."""
    title = "object type"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = model_admin.get_queryset(request).order_by().values_list("object_type", flat=True).distinct()
        return sorted(((t, model_label(t)) for t in types), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("when", "actor", "change", "object", "tenant", "source")
    list_display_links = ("when",)
    list_filter = ("action", "source", ObjectTypeFilter, "actor_type")
    search_fields = ("actor_label", "object_repr", "object_id", "tenant_slug", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    @admin.display(description="When", ordering="occurred_at")
    def when(self, obj):
        return short_datetime(obj.occurred_at)

    @admin.display(description="Actor", ordering="actor_label")
    def actor(self, obj):
        return truncated(obj.actor_label, "14em")

    @admin.display(description="Change", ordering="action")
    def change(self, obj):
        return f"{obj.get_action_display()}: {obj.verb}" if obj.verb else obj.get_action_display()

    @admin.display(description="Tenant", ordering="tenant_slug")
    def tenant(self, obj):
        return obj.tenant_slug or "—"

    @admin.display(description="Object", ordering="object_type")
    def object(self, obj):
        return format_html("{} {}", model_label(obj.object_type), truncated(obj.object_repr or obj.object_id, "20em"))

    scope_fields = {"tenant": "tenant", "reseller": "reseller"}
