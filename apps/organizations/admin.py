"""Organizations in the platform admin, with their member sites inline, in the user's scope.

Saves go through the same services as the API (audit + outbox events); the inline formset runs
the services' membership rules first, so a refused member shows as an error on its row.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html_join

from apps.organizations import selectors, services
from apps.organizations.models import Organization, OrganizationMember
from apps.pbx.models import Location
from apps.tenants.models import Tenant
from thirdlane.admin import ResellerOwnedAdminMixin, ScopedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.api.errors import DomainError


def _error_field(exc: DomainError, default: str = "__all__") -> str:
    return next(iter(exc.errors or {}), default)


class MemberFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        organization = self.instance
        seen: list[tuple[forms.ModelForm, str, int]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or not data.get("tenant") or not data.get("site_code"):
                continue
            tenant, code = data["tenant"], data["site_code"]
            if organization.reseller_id and tenant.reseller_id != organization.reseller_id:
                form.add_error("tenant", "This tenant belongs to another reseller than the organization.")
                continue
            if organization.pk:
                try:
                    services.validate_member(organization=organization, tenant=tenant, site_code=code,
                                             member=form.instance if form.instance.pk else None,
                                             ignore=self._changing_or_leaving())
                except DomainError as exc:
                    form.add_error(_error_field(exc, "site_code"), exc.detail)
                    continue
            elif OrganizationMember.objects.filter(tenant=tenant).exists():
                form.add_error("tenant", "This tenant already belongs to an organization.")
                continue
            for other, other_code, other_length in seen:
                if other_code == code or services.overlapping(code, tenant.extension_length, other_code, other_length):
                    form.add_error("site_code", f"Site code {code} clashes with site {other_code} in this form.")
            seen.append((form, code, tenant.extension_length))

    def _changing_or_leaving(self) -> set[int]:
        """Tenants whose stored membership this submission deletes or changes: their stored
        site codes do not count against the others (the form's values are checked instead)."""
        ids = set()
        for form in self.forms:
            if form.instance.pk and (getattr(form, "cleaned_data", {}).get("DELETE") or form.has_changed()):
                ids.add(form.instance.tenant_id)
        return ids


class MemberInline(ScopedAdminMixin, admin.TabularInline):
    model = OrganizationMember
    formset = MemberFormSet
    extra = 0
    fields = ("tenant", "site_code", "location", "address", "timezone", "tenant_status")
    readonly_fields = ("tenant_status",)
    autocomplete_fields = ("tenant",)
    verbose_name = "member site"
    verbose_name_plural = "member sites"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tenant", "location")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant":
            kwargs["queryset"] = principal_for(request).visible_tenants(Tenant.objects.all())
        if db_field.name == "location":
            kwargs["queryset"] = Location.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Status")
    def tenant_status(self, obj):
        return obj.tenant.get_status_display() if obj.pk else ""


@admin.register(Organization)
class OrganizationAdmin(ResellerOwnedAdminMixin, ScopedModelAdmin):
    list_display = ("name", "slug", "reseller", "member_count", "sites", "created_at")
    list_filter = ("reseller",)
    search_fields = ("name", "slug", "members__tenant__slug", "members__tenant__name")
    list_select_related = ("reseller",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("reseller",)
    inlines = (MemberInline,)
    fields = ("name", "slug", "reseller", "description")

    def scope_queryset(self, queryset, principal):
        return selectors.with_member_count(selectors.organizations_for(principal, queryset))

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__tenant")

    def get_list_filter(self, request):
        return self.list_filter if principal_for(request).is_system else ()

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="Sites")
    def sites(self, obj):
        members = sorted(obj.members.all(), key=lambda m: m.site_code)[:8]
        return format_html_join(", ", "{} {}", ((m.site_code, m.tenant.slug) for m in members)) or "-"

    # --- writes through the services --------------------------------------------------------
    def save_model(self, request, obj, form, change):
        actor = principal_for(request)
        data = {f: form.cleaned_data[f] for f in services.ORGANIZATION_FIELDS if f in form.cleaned_data}
        if change:
            changed = {f: v for f, v in data.items() if f in form.changed_data}
            saved = services.organization_update(actor=actor, instance=obj, **changed) if changed else obj
        else:
            saved = services.organization_create(actor=actor, **data)
        obj.pk = saved.pk
        obj.created_at, obj.updated_at = saved.created_at, saved.updated_at

    def save_formset(self, request, form, formset, change):
        if formset.model is not OrganizationMember:
            return super().save_formset(request, form, formset, change)
        actor = principal_for(request)
        organization = form.instance
        # What the admin's change message and history read.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        try:
            for member_form in formset.deleted_forms:
                if member_form.instance.pk:
                    services.organization_member_remove(actor=actor, member=member_form.instance)
                    formset.deleted_objects.append(member_form.instance)
            for member_form in formset.forms:
                data = getattr(member_form, "cleaned_data", None) or {}
                if not data or data.get("DELETE") or member_form in formset.deleted_forms:
                    continue
                fields = {f: data.get(f) for f in ("site_code", "location", "address", "timezone")}
                fields["address"] = fields["address"] or ""
                fields["timezone"] = fields["timezone"] or ""
                if member_form.instance.pk:
                    if member_form.has_changed():
                        member = services.organization_member_update(actor=actor, member=member_form.instance,
                                                                     **fields)
                        formset.changed_objects.append((member, member_form.changed_data))
                elif data.get("tenant"):
                    member = services.organization_member_add(actor=actor, organization=organization,
                                                              tenant=data["tenant"], **fields)
                    formset.new_objects.append(member)
        except DomainError as exc:  # a rule the form could not see (a concurrent change)
            self.message_user(request, exc.detail, level=messages.ERROR)
            raise

    def delete_model(self, request, obj):
        services.organization_delete(actor=principal_for(request), instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
