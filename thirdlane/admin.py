"""Admin base classes: scope, role-based permissions and audited writes.

Resellers work in the admin every day, so it follows the API's rules exactly: a queryset is
limited to the user's scope, read-only users only view, and every save and delete goes through
the same service functions (or, for plain objects, the same audit and outbox helpers) as the API.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from apps.accounts.principal import Principal
from apps.audit.models import AuditEntry
from apps.audit.services import snapshot
from thirdlane.api.errors import DomainError
from thirdlane.services import protected_delete, record_change


def principal_for(request) -> Principal:
    return Principal.for_user(request.user)


class ScopedAdminMixin:
    """Permissions from the user's role, rows from the user's scope.

    ``scope_queryset(qs, principal)`` limits rows (override); ``system_only`` hides a model from
    everyone but system admins; ``event_prefix`` makes plain saves emit lifecycle events.
    """

    system_only = False
    event_prefix: str | None = None

    def scope_queryset(self, queryset, principal: Principal):
        return queryset

    def get_queryset(self, request):
        return self.scope_queryset(super().get_queryset(request), principal_for(request))

    def _allowed(self, request, write: bool) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        principal = principal_for(request)
        if self.system_only and not principal.is_system:
            return False
        return not (write and principal.read_only)

    def has_module_permission(self, request):
        return self._allowed(request, write=False)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, write=False)

    def has_add_permission(self, request, *args):
        return self._allowed(request, write=True)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, write=True)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, write=True)

    # --- audited writes ---------------------------------------------------------------------
    def audit_tenant(self, request, obj):
        """The tenant an object belongs to, for audit and events (tenant admin: the current one)."""
        return getattr(request, "tenant", None)

    def event_payload(self, obj) -> dict:
        return {"id": obj.pk}

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.filter(pk=obj.pk).first()) if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            verb = "updated" if change else "created"
            record_change(
                actor=principal_for(request), action=AuditEntry.Action.UPDATE if change else AuditEntry.Action.CREATE,
                instance=obj, before=before, tenant=self.audit_tenant(request, obj),
                event_type=f"{self.event_prefix}.{verb}" if self.event_prefix else None,
                event_data=self.event_payload(obj) if self.event_prefix else None,
            )

    def delete_model(self, request, obj):
        before = snapshot(obj)
        payload = self.event_payload(obj) if self.event_prefix else None
        pk = obj.pk
        try:
            with transaction.atomic():
                protected_delete(obj)
                obj.pk = pk
                record_change(actor=principal_for(request), action=AuditEntry.Action.DELETE, instance=obj,
                              before=before, tenant=self.audit_tenant(request, obj),
                              event_type=f"{self.event_prefix}.deleted" if self.event_prefix else None,
                              event_data=payload)
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ScopedModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_per_page = 50


class ResellerOwnedAdminMixin:
    """For objects owned by a reseller (tenants, organizations): a reseller admin can only pick
    its own reseller, and never move an existing object to another one."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not principal_for(request).is_system:
            fields.append("reseller")
        return fields

    def get_form(self, request, obj=None, **kwargs):
        from apps.tenants.models import Reseller

        form = super().get_form(request, obj, **kwargs)
        principal = principal_for(request)
        if "reseller" in form.base_fields and not principal.is_system:
            form.base_fields["reseller"].queryset = Reseller.objects.filter(pk=principal.reseller_id)
            form.base_fields["reseller"].initial = principal.reseller_id
        return form
