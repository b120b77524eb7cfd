"""Admin base classes: scope, role-based permissions and audited writes.

Resellers work in the admin every day, so it follows the API's rules exactly: a queryset is
limited to the user's scope, read-only users only view, and every save and delete goes through
the same service functions (or, for plain objects, the same audit and outbox helpers) as the API.
"""
from __future__ import annotations

import inspect
from typing import Callable

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect

from apps.accounts.principal import Principal
from apps.audit.services import snapshot
from thirdlane.api.errors import DomainError
from thirdlane.services import delete, record_created, record_updated


def principal_for(request) -> Principal:
    return Principal.for_user(request.user)


class ScopedAdminMixin:
    """Permissions from the user's role, rows from the user's scope.

    Rows: ``scope_fields`` names the paths to a row's owners for ``Principal.scope_q`` (the rule
    the API uses too); override ``scope_queryset`` where the rule is not ownership. Tenant-schema
    models need neither: the schema is the scope. ``system_only`` hides a model from everyone but
    system admins; ``event_prefix`` makes plain saves emit lifecycle events.
    """

    system_only = False
    event_prefix: str | None = None
    scope_fields: dict[str, str] | None = None

    def scope_queryset(self, queryset, principal: Principal):
        if self.scope_fields is None:
            return queryset
        return queryset.filter(principal.scope_q(**self.scope_fields))

    def get_queryset(self, request):
        return self.scope_queryset(super().get_queryset(request), principal_for(request))

    def get_list_filter(self, request):
        """A sidebar filter on a relation ("By reseller", "By tenant", "By server") lists only the
        related objects the rows in the user's scope point at, never every row of the related
        table (Django's default would name every reseller, with its id, to a tenant admin)."""
        return [scoped_list_filter(self.model, item) for item in super().get_list_filter(request)]

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; an object outside the user's scope
        # is simply not found, like in the API.
        raise Http404(f"No {opts.verbose_name} with id {object_id!r}.")

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

    # --- writes through the services ------------------------------------------------------
    # The same functions the API calls (``create_service(actor=, [tenant=,] **fields)``,
    # ``update_service(actor=, instance=, **changed)``, ``delete_service(actor=, instance=)``).
    # A model without services (users, groups) is saved by the form and audited here.
    create_service: Callable | None = None
    update_service: Callable | None = None
    delete_service: Callable | None = None

    def audit_tenant(self, request, obj):
        """The tenant an object belongs to, for audit and events (tenant admin: the current one)."""
        return getattr(request, "tenant", None)

    def event_payload(self, obj) -> dict:
        return {"id": obj.pk}

    def _declared(self, name: str) -> Callable | None:
        value = inspect.getattr_static(self, name, None)
        return value.__func__ if isinstance(value, staticmethod) else value

    def service_kwargs(self, request) -> dict:
        tenant = getattr(request, "tenant", None)
        return {"actor": principal_for(request), **({"tenant": tenant} if tenant is not None else {})}

    def service_fields(self, form, change: bool) -> dict:
        """The form's model fields (only the changed ones on an update)."""
        names = {f.name for f in form._meta.model._meta.get_fields() if f.concrete}
        return {k: v for k, v in form.cleaned_data.items()
                if k in names and k != "id" and (not change or k in form.changed_data)}

    def save_model(self, request, obj, form, change):
        create, update = self._declared("create_service"), self._declared("update_service")
        if create is not None and update is not None:
            fields = self.service_fields(form, change)
            if change:
                saved = update(**self.service_kwargs(request), instance=type(obj).objects.get(pk=obj.pk), **fields)
            else:
                saved = create(**self.service_kwargs(request), **fields)
            obj.pk, obj._state.adding, obj._state.db = saved.pk, False, saved._state.db
            return
        before = snapshot(type(obj).objects.filter(pk=obj.pk).first()) if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record = record_updated if change else record_created
            kwargs = {"before": before} if change else {}
            record(actor=principal_for(request), instance=obj, tenant=self.audit_tenant(request, obj),
                   prefix=self.event_prefix, payload=self.event_payload(obj) if self.event_prefix else None,
                   **kwargs)

    def delete_model(self, request, obj):
        service = self._declared("delete_service")
        try:
            with transaction.atomic():
                if service is not None:
                    service(**self.service_kwargs(request), instance=obj)
                else:
                    delete(actor=principal_for(request), instance=obj, tenant=self.audit_tenant(request, obj),
                           prefix=self.event_prefix,
                           payload=self.event_payload(obj) if self.event_prefix else None)
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # a service refused what the form let through: nothing was saved
            self.message_user(request, "Not saved: " + error_text(exc), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def scoped_list_filter(model, item):
    """``"reseller"`` -> ``("reseller", RelatedOnlyFieldListFilter)`` when it names a relation:
    its choices come from the admin's own (scoped) queryset. Anything else is left as it is."""
    if not isinstance(item, str):
        return item
    from django.contrib.admin.utils import get_fields_from_path
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = get_fields_from_path(model, item)[-1]
    except (FieldDoesNotExist, admin.utils.NotRelationField):
        return item
    if getattr(field, "is_relation", False) and (field.many_to_one or field.one_to_one or field.many_to_many):
        return (item, admin.RelatedOnlyFieldListFilter)
    return item


def error_text(exc: DomainError) -> str:
    details = [f"{field}: {item['message']}" for field, items in (exc.errors or {}).items() for item in items]
    return exc.detail + (" (" + "; ".join(details) + ")" if details and len(details) > 1 else "")


class ReadOnlyAdminMixin:
    """For records the portal writes itself (audit entries, deliveries, pushes, calls): view only."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
