"""Tenant admin (/t/<tenant>/admin/) for telephony objects.

Saves and deletes go through the same services as the API (validation, audit, events), so the
admin cannot create what the API would refuse. A service error that form validation did not
catch (a race, a limit) is shown as an error message and nothing is saved.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import connection
from import_export.admin import ImportExportMixin

from apps.telephony import services
from apps.telephony.models import (
    Agent, Did, Extension, HolidayRange, Ivr, IvrOption, OutboundRoute, OutboundRouteTrunk, Queue, QueueMember,
    Schedule, TimeCondition, Trunk, WeeklyRange,
)
from apps.telephony.resources import DidResource, ExtensionResource
from apps.telephony.validators import validate_destination
from thirdlane.admin import ScopedAdminMixin, ScopedModelAdmin, principal_for
from thirdlane.admin_display import counted, short_datetime
from thirdlane.admin_sites import tenant_admin_site
from thirdlane.api.errors import DomainError


class DestinationForm(forms.ModelForm):
    """Validates every destination of the model (type/id/number columns) in the current tenant."""

    def clean(self):
        data = super().clean()
        for ref in getattr(self._meta.model, "destination_refs", []):
            t, i, n = ref.columns()
            if t not in self.fields:
                continue
            dest = {"type": data.get(t) or "", "id": data.get(i), "number": data.get(n) or ""}
            try:
                value = validate_destination(connection.tenant, dest, field=t, required=ref.required)
            except DomainError as exc:
                self.add_error(i if dest["type"] and dest["type"] not in ("external", "hangup") else
                               (n if dest["type"] == "external" else t), exc.detail)
                continue
            data[t], data[i], data[n] = value.type, value.id, value.number
        return data


class TelephonyAdmin(ScopedModelAdmin):
    """Writes through ``<noun>_create/update/delete`` services."""

    noun: str = ""
    form = DestinationForm

    # Django's admin LogEntry lives in public and points at public content types, but in a tenant
    # schema ContentType resolves to the tenant's own table: the row would break the foreign key
    # at commit. Our audit log (written by the services) already records every admin write.
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None

    def _service(self, verb: str):
        return getattr(services, f"{self.noun}_{verb}")

    def _declared(self, name: str):
        # ``<noun>_create/update/delete``: the API's functions, named after the admin's noun.
        return self._service(name.removesuffix("_service"))

    def service_data(self, form) -> dict:
        data, model = {}, self.model
        columns = {}
        for ref in getattr(model, "destination_refs", []):
            t, i, n = ref.columns()
            if t in form.cleaned_data:
                data[ref.name] = {"type": form.cleaned_data.get(t), "id": form.cleaned_data.get(i),
                                  "number": form.cleaned_data.get(n)}
            columns.update({t: ref, i: ref, n: ref})
        for name, value in form.cleaned_data.items():
            if name not in columns and name not in {"id"}:
                data[name] = value
        return data

    # Inline rows are a field of the parent's service (``members``, ``options`` ...): the inline
    # model -> (service field, function turning one inline form's cleaned data into a row).
    inline_fields: dict = {}

    def save_model(self, request, obj, form, change):
        if not self.inlines:
            self._save(request, obj, form, change, {})
        # else: saved with its inline rows in save_related, in one service call (one audit entry,
        # one event, the service's validation of the rows)

    def save_related(self, request, form, formsets, change):
        if not self.inlines:
            return super().save_related(request, form, formsets, change)
        rows = {}
        for formset in formsets:
            # The admin's change message reads these; the service, not formset.save(), wrote the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if change and not formset.has_changed():
                continue  # untouched rows are left as they are
            field, row = self.inline_fields[formset.model]
            kept = [f.cleaned_data for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            rows[field] = [row(data) for data in kept]
        self._save(request, form.instance, form, change, rows)

    def _save(self, request, obj, form, change, rows: dict) -> None:
        kwargs = {"actor": principal_for(request), "tenant": request.tenant}
        data = {**self.service_data(form), **rows}
        if change:
            saved = self._service("update")(**kwargs, instance=type(obj).objects.get(pk=obj.pk), **data)
        else:
            saved = self._service("create")(**kwargs, **data)
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db



class Inline(ScopedAdminMixin, admin.TabularInline):
    """Inline rows follow the same role rules as their parent (Django's model perms are unused)."""

    extra = 1


class SecretInput(forms.PasswordInput):
    def __init__(self):
        super().__init__(render_value=False)


# --- extensions and DIDs (with CSV import/export) -------------------------------------------------
class ExtensionForm(DestinationForm):
    sip_secret = forms.CharField(widget=SecretInput(), required=False,
                                 help_text="Write-only. Empty: keep the current secret (a strong one is generated "
                                           "for a new extension).")
    voicemail_pin = forms.CharField(widget=SecretInput(), required=False, help_text="Write-only. Empty: keep.")

    class Meta:
        model = Extension
        fields = "__all__"


class PortalImportExportMixin(ImportExportMixin):
    """CSV import/export with the actor and tenant handed to the resource (it calls the services)."""

    skip_admin_log = True  # see TelephonyAdmin.log_addition: the audit log has every imported row

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "actor": principal_for(request),
                "tenant": request.tenant}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "tenant": request.tenant}

    def has_import_permission(self, request):
        return self._allowed(request, write=True)

    def has_export_permission(self, request):
        return self._allowed(request, write=False)


@admin.register(Extension, site=tenant_admin_site)
class ExtensionAdmin(PortalImportExportMixin, TelephonyAdmin):
    noun = "extension"
    form = ExtensionForm
    resource_classes = [ExtensionResource]
    list_display = ("number", "name", "email", "location", "enabled", "dnd", "voicemail_enabled", "updated")
    list_filter = ("enabled", "dnd", "voicemail_enabled", "location", "recording_inbound", "recording_outbound")
    search_fields = ("number", "name", "email", "caller_id_name")
    ordering = ("number",)
    list_select_related = ("location",)
    actions = ("enable", "disable")
    fieldsets = (
        (None, {"fields": ("number", "name", "email", "location", "enabled")}),
        ("SIP", {"fields": ("sip_secret", "codecs", "max_contacts")}),
        ("Caller ID", {"fields": ("caller_id_name", "caller_id_number")}),
        ("Calls", {"fields": ("dnd", "ring_time", "forward_always", "forward_busy", "forward_no_answer")}),
        ("Voicemail and recording", {"fields": ("voicemail_enabled", "voicemail_pin", "recording_inbound",
                                                "recording_outbound")}),
    )

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj):
        return short_datetime(obj.updated_at)

    def _set_enabled(self, request, queryset, value: bool):
        for ext in queryset:
            services.extension_update(actor=principal_for(request), tenant=request.tenant, instance=ext,
                                      enabled=value)
        self.message_user(request, f"{counted(queryset.count(), Extension)} {'enabled' if value else 'disabled'}.")

    @admin.action(description="Enable selected extensions")
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected extensions")
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)


@admin.register(Did, site=tenant_admin_site)
class DidAdmin(PortalImportExportMixin, TelephonyAdmin):
    noun = "did"
    resource_classes = [DidResource]
    list_display = ("number", "description", "destination", "enabled", "sms_enabled")
    list_filter = ("enabled", "sms_enabled", "dest_type")
    search_fields = ("number", "description")

    @admin.display(description="destination")
    def destination(self, obj):
        return str(obj.dest)


# --- trunks and routes -------------------------------------------------------------------------
class TrunkForm(forms.ModelForm):
    secret = forms.CharField(widget=SecretInput(), required=False, help_text="Write-only. Empty: keep.")

    class Meta:
        model = Trunk
        fields = "__all__"


@admin.register(Trunk, site=tenant_admin_site)
class TrunkAdmin(TelephonyAdmin):
    noun = "trunk"
    form = TrunkForm
    list_display = ("name", "auth_type", "host", "port", "transport", "max_channels", "enabled")
    list_filter = ("auth_type", "transport", "enabled")
    search_fields = ("name", "host", "username")


class RouteTrunkInline(Inline):
    model = OutboundRouteTrunk
    extra = 1
    autocomplete_fields = ("trunk",)
    ordering = ("order",)


def _pk(value):
    return getattr(value, "pk", value)


def _destination_row(model, data: dict) -> dict:
    """An inline form's destination columns as the service's destination object."""
    [ref] = model.destination_refs
    t, i, n = ref.columns()
    return {"type": data.get(t) or "", "id": data.get(i), "number": data.get(n) or ""}


@admin.register(OutboundRoute, site=tenant_admin_site)
class OutboundRouteAdmin(TelephonyAdmin):
    noun = "outbound_route"
    inlines = [RouteTrunkInline]
    inline_fields = {OutboundRouteTrunk: ("trunks", lambda d: {"trunk": _pk(d["trunk"]), "order": d.get("order") or 0})}

    def _save(self, request, obj, form, change, rows):
        if "trunks" in rows:  # the service takes the trunks in the order the rows give
            rows["trunks"] = [row["trunk"] for row in sorted(rows["trunks"], key=lambda row: row["order"])]
        super()._save(request, obj, form, change, rows)

    list_display = ("name", "priority", "patterns", "is_emergency", "enabled")
    list_filter = ("is_emergency", "enabled")
    search_fields = ("name",)
    ordering = ("priority", "name")
    exclude = ("trunks",)

    @admin.display(description="dial patterns")
    def patterns(self, obj):
        return ", ".join(obj.dial_patterns)



# --- queues and agents -------------------------------------------------------------------------
class QueueMemberInline(Inline):
    model = QueueMember
    extra = 1
    autocomplete_fields = ("extension", "agent")


@admin.register(Queue, site=tenant_admin_site)
class QueueAdmin(TelephonyAdmin):
    noun = "queue"
    inlines = [QueueMemberInline]
    inline_fields = {QueueMember: ("members", lambda d: {"extension": _pk(d.get("extension")),
                                                         "agent": _pk(d.get("agent")),
                                                         "penalty": d.get("penalty") or 0})}
    list_display = ("number", "name", "strategy", "ring_timeout", "max_wait", "member_count")
    list_filter = ("strategy",)
    search_fields = ("number", "name")

    @admin.display(description="members")
    def member_count(self, obj):
        return len(obj.members.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")


@admin.register(Agent, site=tenant_admin_site)
class AgentAdmin(TelephonyAdmin):
    noun = "agent"
    list_display = ("name", "extension", "login_code", "state", "pause_reason", "state_changed_at")
    list_filter = ("state",)
    search_fields = ("name", "login_code", "extension__number")
    autocomplete_fields = ("extension",)
    readonly_fields = ("state_changed_at",)
    list_select_related = ("extension",)
    actions = ("log_out",)

    @admin.action(description="Log out selected agents")
    def log_out(self, request, queryset):
        for agent in queryset:
            services.agent_set_state(actor=principal_for(request), tenant=request.tenant, instance=agent,
                                     state=Agent.State.LOGGED_OUT)


# --- IVRs ----------------------------------------------------------------------------------------
class IvrOptionInline(Inline):
    model = IvrOption
    form = DestinationForm
    extra = 1


@admin.register(Ivr, site=tenant_admin_site)
class IvrAdmin(TelephonyAdmin):
    noun = "ivr"
    inlines = [IvrOptionInline]
    inline_fields = {IvrOption: ("options", lambda d: {"digit": d.get("digit"),
                                                       "dest": _destination_row(IvrOption, d)})}
    list_display = ("name", "number", "direct_dial", "timeout", "repeat_count")
    list_filter = ("direct_dial",)
    search_fields = ("name", "number")


# --- schedules and time conditions ---------------------------------------------------------------
class WeeklyRangeInline(Inline):
    model = WeeklyRange
    extra = 1


class HolidayRangeInline(Inline):
    model = HolidayRange
    extra = 1


@admin.register(Schedule, site=tenant_admin_site)
class ScheduleAdmin(TelephonyAdmin):
    noun = "schedule"
    inlines = [WeeklyRangeInline, HolidayRangeInline]
    inline_fields = {
        WeeklyRange: ("weekly_ranges", lambda d: {k: d.get(k) for k in ("day_of_week", "start_time", "end_time")}),
        HolidayRange: ("holidays", lambda d: {k: d.get(k) for k in ("name", "start_date", "end_date")}),
    }
    list_display = ("name", "timezone", "description")
    search_fields = ("name", "description")
    list_filter = ("timezone",)


@admin.register(TimeCondition, site=tenant_admin_site)
class TimeConditionAdmin(TelephonyAdmin):
    noun = "time_condition"
    list_display = ("name", "schedule", "override", "open_destination", "closed_destination")
    list_filter = ("override", "schedule")
    search_fields = ("name",)
    autocomplete_fields = ("schedule",)
    readonly_fields = ("override_changed_at",)
    list_select_related = ("schedule",)
    actions = ("force_open", "force_closed", "follow_schedule")

    @admin.display(description="open")
    def open_destination(self, obj):
        return str(obj.match)

    @admin.display(description="closed")
    def closed_destination(self, obj):
        return str(obj.no_match)

    def _override(self, request, queryset, mode):
        for tc in queryset:
            services.time_condition_set_override(actor=principal_for(request), tenant=request.tenant, instance=tc,
                                                 mode=mode)
        self.message_user(request, f"{counted(queryset.count(), TimeCondition)} set to {mode}.")

    @admin.action(description="Force open")
    def force_open(self, request, queryset):
        self._override(request, queryset, TimeCondition.Override.FORCE_OPEN)

    @admin.action(description="Force closed")
    def force_closed(self, request, queryset):
        self._override(request, queryset, TimeCondition.Override.FORCE_CLOSED)

    @admin.action(description="Follow the schedule")
    def follow_schedule(self, request, queryset):
        self._override(request, queryset, TimeCondition.Override.AUTO)


from apps.telephony import admin_features  # noqa: E402,F401  (ring groups, block lists, feature codes)
