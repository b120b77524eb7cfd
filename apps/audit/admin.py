from django.contrib import admin
from django.db.models import Q

from apps.audit.models import AuditEntry
from thirdlane.admin import ScopedModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedModelAdmin):
    list_display = ("occurred_at", "actor_label", "source", "action", "verb", "object_type", "object_repr",
                    "tenant_slug", "request_id")
    list_filter = ("action", "source", "object_type", "actor_type")
    search_fields = ("actor_label", "object_repr", "object_id", "tenant_slug", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def scope_queryset(self, queryset, principal):
        if principal.is_system:
            return queryset
        if principal.reseller_id:
            return queryset.filter(Q(reseller_id=principal.reseller_id))
        return queryset.filter(tenant_id=principal.tenant_id)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
