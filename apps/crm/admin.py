"""The CRM in the tenant admin (/t/<tenant>/admin/crm/...): every object type, custom fields on
their forms, and the import flow (upload -> map -> preview -> confirm -> progress).

Saves go through the same services as the API (E.164 phones, custom field validation, audit and
``crm.*`` events); phone and custom field errors are shown on the form fields.
"""
from __future__ import annotations

import csv
import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.crm import customfields, imports, services
from thirdlane.csvsafe import neutralise
from apps.crm.importer.mapping import CONTACT_FIELDS
from apps.crm.models import (
    Account, Activity, Campaign, CampaignMember, Contact, ContactList, CustomField, Deal, DealStage, ImportJob,
    ImportMap, Lead, ListMembership, Task,
)
from apps.crm.phones import PhoneError, to_e164
from thirdlane.admin import ScopedModelAdmin, principal_for
from thirdlane.admin_display import counted, short_datetime, truncated
from thirdlane.admin_sites import tenant_admin_site
from thirdlane.api.errors import DomainError

FT = CustomField.FieldType


def _form_field(definition: CustomField) -> forms.Field:
    common = {"required": False, "label": definition.label, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == FT.NUMBER:
        return forms.DecimalField(**common)
    if kind == FT.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FT.BOOLEAN:
        return forms.NullBooleanField(**common)
    if kind == FT.CHOICE:
        return forms.ChoiceField(choices=[("", "---------")] + [(c, c) for c in definition.choices], **common)
    if kind == FT.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=[(c, c) for c in definition.choices],
                                         widget=forms.CheckboxSelectMultiple, **common)
    return forms.CharField(max_length=1000, **common)


class CrmAdmin(ScopedModelAdmin):
    """Writes through ``services.<object>_create/update/delete``; custom fields as form fields."""

    spec: services.Spec
    exclude = ("custom",)

    def get_form(self, request, obj=None, **kwargs):
        region = getattr(request.tenant, "default_region", "") or "US"
        spec = self.spec
        definitions = customfields.definitions(spec.custom_type) if spec.custom_type else []
        base = kwargs.get("form", self.form)
        attrs = {f"cf_{d.name}": _form_field(d) for d in definitions}

        def clean(form):
            data = super(form_class, form).clean()
            for name in spec.phone_fields:
                if data.get(name):
                    try:
                        data[name] = to_e164(data[name], region)
                    except PhoneError as exc:
                        form.add_error(name, str(exc))
            if spec.custom_type:
                values = {}
                for d in definitions:
                    value = data.get(f"cf_{d.name}")
                    if hasattr(value, "isoformat"):
                        value = value.isoformat()
                    elif value is not None and d.field_type == FT.NUMBER:
                        value = float(value) if value % 1 else int(value)
                    values[d.name] = value if value not in ("", []) else None
                try:
                    data["custom"] = customfields.clean_custom(
                        object_type=spec.custom_type, model=spec.model, values=values, instance=form.instance,
                        region=region, definitions_=definitions)
                except DomainError as exc:
                    for key, errors in (exc.errors or {}).items():
                        field = "cf_" + key.split(".", 1)[-1]
                        form.add_error(field if field in form.fields else None, [e["message"] for e in errors])
            return data

        attrs["clean"] = clean
        form_class = type(f"{spec.model.__name__}CrmForm", (base,), attrs)
        kwargs["form"] = form_class
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            for d in definitions:
                key = f"cf_{d.name}"
                if key in form.base_fields:
                    form.base_fields[key].initial = (obj.custom or {}).get(d.name)
        return form

    def save_model(self, request, obj, form, change):
        actor, tenant = principal_for(request), request.tenant
        m2m = {f.name for f in obj._meta.many_to_many}
        fields = {f.name for f in obj._meta.concrete_fields}
        data = {k: v for k, v in form.cleaned_data.items()
                if k in fields and k not in m2m and (not change or k in form.changed_data)}
        if self.spec.custom_type:
            data["custom"] = {d: v for d, v in form.cleaned_data.get("custom", {}).items()}
            if change:  # the form holds the full set: send removals explicitly
                for name in (type(obj).objects.get(pk=obj.pk).custom or {}):
                    data["custom"].setdefault(name, None)
        for name in m2m & set(self.spec.m2m):  # the service sets them (save_related does not)
            if name in form.cleaned_data and (not change or name in form.changed_data):
                data[name] = list(form.cleaned_data[name])
        # A DomainError rolls the whole save back and shows as a message (ScopedAdminMixin.changeform_view).
        if change:
            fresh = type(obj).objects.get(pk=obj.pk)
            saved = self._service("update")(actor=actor, tenant=tenant, instance=fresh, **data)
        else:
            saved = self._service("create")(actor=actor, tenant=tenant, **data)
        obj.pk = saved.pk
        obj.custom = getattr(saved, "custom", None)

    def _service(self, verb: str):
        """The same ``<object>_<verb>`` service function the API calls."""
        return getattr(services, f"{self.spec.noun}_{verb}")

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        # no form.save_m2m(): many-to-many fields went to the service with the other fields

    def delete_model(self, request, obj):
        try:
            self._service("delete")(actor=principal_for(request), tenant=request.tenant, instance=obj)
        except DomainError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)

    @admin.display(description="Custom fields")
    def custom_summary(self, obj):
        return truncated(", ".join(f"{k}: {v}" for k, v in (obj.custom or {}).items()), "12em")


@admin.register(Account, site=tenant_admin_site)
class AccountAdmin(CrmAdmin):
    spec = services.ACCOUNT
    list_display = ("name", "phone", "website", "industry", "owner", "custom_summary")
    list_filter = ("industry", "country", "owner")
    search_fields = ("name", "website", "phone", "email", "external_id")


class ListMembershipInline(admin.TabularInline):
    model = ListMembership
    extra = 0
    autocomplete_fields = ("contact",)


@admin.register(Contact, site=tenant_admin_site)
class ContactAdmin(CrmAdmin):
    spec = services.CONTACT
    list_display = ("__str__", "email", "phones", "account", "owner", "in_directory", "custom_summary")
    list_filter = ("shared_in_directory", "source", "country", "owner")
    search_fields = ("first_name", "last_name", "email", "phone", "mobile", "work_phone", "external_id",
                     "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    actions = ("export_csv", "add_to_list")

    @admin.display(description="Phone / mobile", ordering="phone")
    def phones(self, obj):
        numbers = [n for n in (obj.phone, obj.mobile) if n]
        return format_html_join(mark_safe("<br>"), '<span class="tl-nowrap">{}</span>', ((n,) for n in numbers)) \
            if numbers else "—"

    @admin.display(description="Directory", boolean=True, ordering="shared_in_directory")
    def in_directory(self, obj):
        return obj.shared_in_directory

    @admin.action(description="Export selected contacts as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
        writer = csv.writer(response)
        writer.writerow(["id", "first_name", "last_name", "email", "phone", "mobile", "account", "tags", "custom"])
        for c in queryset.select_related("account"):
            writer.writerow([neutralise(str(v)) for v in (
                c.pk, c.first_name, c.last_name, c.email, c.phone, c.mobile, c.account.name if c.account else "",
                ";".join(c.tags), json.dumps(c.custom, ensure_ascii=False))])
        return response

    @admin.action(description="Add selected contacts to a list…")
    def add_to_list(self, request, queryset):
        name = request.POST.get("list_name") or "Admin selection"
        contact_list = ContactList.objects.filter(name=name).first() or services.list_create(
            actor=principal_for(request), tenant=request.tenant, name=name)
        added = services.list_add_members(actor=principal_for(request), tenant=request.tenant,
                                          contact_list=contact_list, contacts=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Added {counted(added, Contact)} to the list {contact_list.name!r}.")


@admin.register(Lead, site=tenant_admin_site)
class LeadAdmin(CrmAdmin):
    spec = services.LEAD
    list_display = ("__str__", "company", "email", "phone", "status", "source", "owner", "created_at")
    list_filter = ("status", "source", "owner")
    search_fields = ("first_name", "last_name", "company", "email", "phone")
    readonly_fields = ("converted_at", "converted_contact", "converted_account", "converted_deal")
    actions = ("convert",)

    @admin.action(description="Convert selected leads (contact + account)")
    def convert(self, request, queryset):
        done = 0
        for lead in queryset:
            try:
                services.lead_convert(actor=principal_for(request), tenant=request.tenant, lead=lead)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{lead}: {exc.detail}", level=messages.WARNING)
        if done:
            self.message_user(request, f"Converted {counted(done, Lead)}.")


@admin.register(ContactList, site=tenant_admin_site)
class ContactListAdmin(CrmAdmin):
    spec = services.LIST
    exclude = ()
    list_display = ("name", "description", "created_at")
    search_fields = ("name",)
    inlines = (ListMembershipInline,)

    def save_formset(self, request, form, formset, change):
        """Membership rows through the list services (audit and ``crm.list.members_*`` events)."""
        contact_list = form.instance
        current = set(contact_list.memberships.values_list("contact_id", flat=True))
        wanted = {f.cleaned_data["contact"].pk for f in formset.forms
                  if f.cleaned_data.get("contact") and not f.cleaned_data.get("DELETE")}
        kwargs = {"actor": principal_for(request), "tenant": request.tenant, "contact_list": contact_list}
        if wanted - current:
            services.list_add_members(**kwargs, contacts=sorted(wanted - current))
        if current - wanted:
            services.list_remove_members(**kwargs, contacts=sorted(current - wanted))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(CustomField, site=tenant_admin_site)
class CustomFieldAdmin(CrmAdmin):
    spec = services.CUSTOM_FIELD
    exclude = ()
    list_display = ("label", "name", "object_type", "field_type", "required", "unique", "position")
    list_filter = ("object_type", "field_type", "required", "unique")
    search_fields = ("name", "label")


@admin.register(Activity, site=tenant_admin_site)
class ActivityAdmin(CrmAdmin):
    spec = services.ACTIVITY
    list_display = ("subject", "kind", "occurred_at", "owner", "contact", "account", "deal")
    list_filter = ("kind", "owner")
    search_fields = ("subject", "body")
    autocomplete_fields = ("contact", "account", "lead", "deal")
    date_hierarchy = "occurred_at"


@admin.register(Task, site=tenant_admin_site)
class TaskAdmin(CrmAdmin):
    spec = services.TASK
    list_display = ("title", "due_date", "status", "priority", "assignee", "contact", "deal")
    list_filter = ("status", "priority", "assignee")
    search_fields = ("title", "description")
    autocomplete_fields = ("contact", "account", "lead", "deal")
    readonly_fields = ("completed_at",)


class CampaignMemberInline(admin.TabularInline):
    model = CampaignMember
    extra = 0
    autocomplete_fields = ("contact",)
    fields = ("contact", "status")


@admin.register(Campaign, site=tenant_admin_site)
class CampaignAdmin(CrmAdmin):
    spec = services.CAMPAIGN
    list_display = ("name", "status", "starts_on", "ends_on")
    list_filter = ("status",)
    search_fields = ("name", "description")
    filter_horizontal = ("lists",)
    inlines = (CampaignMemberInline,)


@admin.register(DealStage, site=tenant_admin_site)
class DealStageAdmin(CrmAdmin):
    spec = services.DEAL_STAGE
    exclude = ()
    list_display = ("name", "position", "probability", "kind")
    list_editable = ("position", "probability")
    search_fields = ("name",)


@admin.register(Deal, site=tenant_admin_site)
class DealAdmin(CrmAdmin):
    spec = services.DEAL
    list_display = ("name", "stage", "value", "account", "contact", "expected_close", "owner")
    list_filter = ("stage", "currency", "owner")
    search_fields = ("name", "notes", "account__name")
    list_select_related = ("stage", "account", "contact")
    autocomplete_fields = ("account", "contact")
    readonly_fields = ("closed_at",)

    @admin.display(description="Amount", ordering="amount")
    def value(self, obj):
        return format_html('<span class="tl-nowrap">{} {}</span>', f"{obj.amount:,.2f}", obj.currency)

    def get_form(self, request, obj=None, **kwargs):
        services.ensure_pipeline()
        return super().get_form(request, obj, **kwargs)


@admin.register(ImportMap, site=tenant_admin_site)
class ImportMapAdmin(CrmAdmin):
    spec = services.IMPORT_MAP
    exclude = ()
    list_display = ("name", "dedupe_on", "on_match", "updated_at")
    list_filter = ("dedupe_on", "on_match")
    search_fields = ("name", "description")


# --- the import flow ---------------------------------------------------------------------------
# The transforms a column can get on the map page, in the order they apply, with their names for
# people ("date" and "default" have their own inputs).
TRANSFORM_CHOICES = [
    ("trim", "Trim spaces"), ("collapse_spaces", "Collapse inner spaces"), ("lower", "lower case"),
    ("upper", "UPPER CASE"), ("title", "Title Case"), ("phone", "Phone number to E.164"),
    ("split_name", "Split a full name"),
]


def _cell(values: dict, target: str):
    """The stored value a column with this target produced in one preview row."""
    if target == "full_name":
        return " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
    if target.startswith("cf:"):
        value = (values.get("custom") or {}).get(target[3:])
    else:
        value = values.get(target)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def _sample_table(headers: list[str], columns: dict, labels: dict, preview: dict | None):
    """The preview as the file reads: its mapped columns in file order, under the file's names."""
    mapped = [(h, columns.get(h, {}).get("field", "")) for h in headers]
    mapped = [(h, target) for h, target in mapped if target]
    sample_columns = [{"header": h, "target": labels.get(target, target)} for h, target in mapped]
    sample_rows = [{"row": r["row"], "cells": [_cell(r["values"], target) for _, target in mapped]}
                   for r in (preview or {}).get("sample", [])]
    return sample_columns, sample_rows


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (comma, semicolon or tab; UTF-8, UTF-16 or Latin-1), up to 50 MiB.")
    import_map = forms.ModelChoiceField(queryset=ImportMap.objects.none(), required=False,
                                        help_text="Start from a saved map (optional).")
    encoding = forms.CharField(required=False, help_text="Leave empty to detect.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_map"].queryset = ImportMap.objects.all()


@admin.register(ImportJob, site=tenant_admin_site)
class ImportJobAdmin(ScopedModelAdmin):
    list_display = ("job", "status", "progress_bar", "outcome", "actor_label", "created")
    list_filter = ("status", "mode")
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    actions = ("undo",)

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="crm_importjob_upload"),
            path("<int:pk>/map/", wrap(self.map_view), name="crm_importjob_map"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="crm_importjob_progress"),
            path("<int:pk>/status.json", wrap(self.status_view), name="crm_importjob_status"),
            path("<int:pk>/errors.csv", wrap(self.errors_view), name="crm_importjob_errors"),
        ] + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("tenant_admin:crm_importjob_upload"))

    @admin.display(description="Import", ordering="pk")
    def job(self, obj):
        return truncated(obj, "18em")

    @admin.display(description="Created, updated, skipped, errors")
    def outcome(self, obj):
        return f"{obj.created_count} / {obj.updated_count} / {obj.skipped_count} / {obj.error_count}"

    @admin.display(description="Started", ordering="created_at")
    def created(self, obj):
        return short_datetime(obj.created_at)

    @admin.display(description="Progress")
    def progress_bar(self, obj):
        return format_html('<progress max="100" value="{}"></progress> {}%', obj.percent, obj.percent)

    @admin.action(description="Undo (delete the contacts these imports created)")
    def undo(self, request, queryset):
        for job in queryset:
            try:
                imports.import_undo(actor=principal_for(request), tenant=request.tenant, job=job)
                self.message_user(request, f"{job}: undone.")
            except DomainError as exc:
                self.message_user(request, f"{job}: {exc.detail}", level=messages.WARNING)

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def upload_view(self, request):
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_upload(
                    actor=principal_for(request), tenant=request.tenant, upload=upload, file_name=upload.name,
                    encoding=form.cleaned_data["encoding"], import_map=form.cleaned_data["import_map"],
                    status=ImportJob.Status.DRAFT)
            except DomainError as exc:
                form.add_error("file", exc.detail)
            else:
                return HttpResponseRedirect(reverse("tenant_admin:crm_importjob_map", args=[job.pk]))
        return TemplateResponse(request, "admin/crm/import_upload.html",
                                self._context(request, form=form, title="Import contacts: upload"))

    def map_view(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        if job.status != ImportJob.Status.DRAFT:
            return HttpResponseRedirect(reverse("tenant_admin:crm_importjob_progress", args=[job.pk]))
        headers = [h for h in imports.job_headers(job) if h]
        columns, error = {h: job.columns.get(h, {"field": "", "transforms": []}) for h in headers}, ""
        dedupe_on, on_match, mode = job.dedupe_on, job.on_match, job.mode
        if request.method == "POST":
            columns = {}
            for index, header in enumerate(headers):
                key = f"col_{index}"
                columns[header] = {"field": request.POST.get(f"{key}_field", ""),
                                   "transforms": request.POST.getlist(f"{key}_transforms"),
                                   "default": request.POST.get(f"{key}_default", ""),
                                   "date_format": request.POST.get(f"{key}_date_format", "")}
                if columns[header]["field"] and not columns[header]["transforms"]:
                    columns[header]["transforms"] = ["trim"]
            dedupe_on = request.POST.get("dedupe_on", dedupe_on)
            on_match = request.POST.get("on_match", on_match)
            mode = request.POST.get("mode", mode)
            try:
                imports.import_configure(actor=principal_for(request), tenant=request.tenant, job=job,
                                         columns=columns, dedupe_on=dedupe_on, on_match=on_match, mode=mode)
                if request.POST.get("save_map"):
                    with transaction.atomic():
                        services.import_map_create(actor=principal_for(request), tenant=request.tenant,
                                                   name=request.POST["save_map"][:100], columns=job.columns,
                                                   dedupe_on=dedupe_on, on_match=on_match)
                if "confirm" in request.POST:
                    with transaction.atomic():
                        imports.import_queue(actor=principal_for(request), tenant=request.tenant, job=job)
                    return HttpResponseRedirect(reverse("tenant_admin:crm_importjob_progress", args=[job.pk]))
            except DomainError as exc:
                error = exc.detail + "".join(f" {k}: {'; '.join(e['message'] for e in v)}"
                                             for k, v in (exc.errors or {}).items())
        preview, preview_job = None, None
        if not error and job.size_bytes <= imports.preview_inline_bytes():
            try:
                preview = imports.import_preview(tenant=request.tenant, job=job)
            except DomainError as exc:
                error = exc.detail
        elif not error:  # a big file: a job previews it, this page shows its progress and reloads
            job.refresh_from_db()
            if request.method == "POST" or not job.preview_status:  # a new map: a new preview
                imports.import_preview_queue(tenant=request.tenant, job=job)
            elif job.preview_status == ImportJob.PreviewStatus.READY:
                preview = job.preview
            elif job.preview_status == ImportJob.PreviewStatus.FAILED:
                error = ((job.preview or {}).get("error") or {}).get("detail", "The preview failed.")
            preview_job = None if preview is not None or error else job
        fields = [("", "— ignore —")] + [(k, label) for k, (label, _) in CONTACT_FIELDS.items()] + [
            (f"cf:{d.name}", f"Custom: {d.label}") for d in customfields.definitions("contact")]
        rows = [{"index": i, "header": h, "spec": spec} for i, (h, spec) in enumerate(columns.items())]
        sample_columns, sample_rows = _sample_table(headers, columns, dict(fields), preview)
        return TemplateResponse(request, "admin/crm/import_map.html", self._context(
            request, job=job, rows=rows, fields=fields, transforms=TRANSFORM_CHOICES,
            preview=preview, preview_job=preview_job, error=error, dedupe_on=dedupe_on, on_match=on_match, mode=mode,
            sample_columns=sample_columns, sample_rows=sample_rows, dedupe_choices=ImportMap.DedupeOn.choices,
            match_choices=ImportMap.OnMatch.choices, mode_choices=ImportJob.Mode.choices,
            title=f"Import contacts: map and preview {job.file_name}"))

    def progress_view(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        return TemplateResponse(request, "admin/crm/import_progress.html", self._context(
            request, job=job, status_url=f"/api/crm-imports/{request.tenant.slug}/{job.pk}/",
            title=f"Import {job.pk}: {job.file_name}"))

    def status_view(self, request, pk):
        from apps.crm.api.serializers import ImportJobSerializer

        job = get_object_or_404(ImportJob, pk=pk)
        return JsonResponse(ImportJobSerializer(job, context={"tenant": request.tenant}).data)

    def errors_view(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        response = HttpResponse("".join(imports.error_rows(job)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
