"""Tenant admin of the PBX features (issue 12): ring groups with their members, block lists with
their entries, feature codes, conferences, parking lots, paging groups with their members. Writes go through the services, like every telephony admin."""
from __future__ import annotations

from django import forms
from django.contrib import admin

from apps.telephony.admin import Inline, SecretInput, TelephonyAdmin, _pk
from apps.telephony.models import (
    BlockList, BlockListEntry, Conference, FeatureCode, PagingGroup, PagingMember, ParkingLot, RingGroup,
    RingGroupMember,
)
from thirdlane.admin_sites import tenant_admin_site


class RingGroupMemberInline(Inline):
    model = RingGroupMember
    fields = ("position", "extension", "number", "delay", "ring_time")
    autocomplete_fields = ("extension",)
    ordering = ("position",)


def _member_row(data: dict) -> dict:
    row = {"delay": data.get("delay") or 0, "ring_time": data.get("ring_time") or 20,
           "position": data.get("position") or 0}
    if data.get("extension"):
        row["extension"] = _pk(data["extension"])
    else:
        row["number"] = data.get("number") or ""
    return row


@admin.register(RingGroup, site=tenant_admin_site)
class RingGroupAdmin(TelephonyAdmin):
    noun = "ring_group"
    inlines = [RingGroupMemberInline]
    inline_fields = {RingGroupMember: ("members", _member_row)}
    list_display = ("number", "name", "strategy", "ring_time", "member_count", "no_answer_destination")
    list_filter = ("strategy",)
    search_fields = ("number", "name")

    def _save(self, request, obj, form, change, rows):
        if "members" in rows:  # ringing order is the rows' position
            rows["members"] = [{k: v for k, v in row.items() if k != "position"}
                               for row in sorted(rows["members"], key=lambda row: row["position"])]
        super()._save(request, obj, form, change, rows)

    @admin.display(description="members")
    def member_count(self, obj):
        return len(obj.members.all())

    @admin.display(description="no answer")
    def no_answer_destination(self, obj):
        return str(obj.no_answer)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")


class BlockListEntryInline(Inline):
    model = BlockListEntry
    fields = ("kind", "value", "description")


@admin.register(BlockList, site=tenant_admin_site)
class BlockListAdmin(TelephonyAdmin):
    noun = "block_list"
    inlines = [BlockListEntryInline]
    inline_fields = {BlockListEntry: ("entries", lambda d: {k: d.get(k) or "" for k in ("kind", "value",
                                                                                          "description")})}
    list_display = ("name", "all_dids", "block_anonymous", "action", "enabled", "entry_count")
    list_filter = ("all_dids", "block_anonymous", "action", "enabled")
    search_fields = ("name", "entries__value")
    filter_horizontal = ("dids",)

    def service_data(self, form) -> dict:
        data = super().service_data(form)
        if "dids" in data:
            data["dids"] = [d.pk for d in data["dids"]]
        return data

    @admin.display(description="entries")
    def entry_count(self, obj):
        return len(obj.entries.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("entries")


@admin.register(FeatureCode, site=tenant_admin_site)
class FeatureCodeAdmin(TelephonyAdmin):
    noun = "feature_code"
    list_display = ("feature", "code", "enabled", "default")
    list_filter = ("enabled",)
    search_fields = ("feature", "code")

    @admin.display(description="default")
    def default(self, obj):
        from apps.telephony.features import BY_KEY

        feature = BY_KEY.get(obj.feature)
        return feature.default if feature else "-"


# --- conferences, parking lots, paging groups -----------------------------------------------------
class ConferenceForm(forms.ModelForm):
    pin = forms.CharField(widget=SecretInput(), required=False, help_text="Write-only. Empty: keep.")
    admin_pin = forms.CharField(widget=SecretInput(), required=False, help_text="Write-only. Empty: keep.")

    class Meta:
        model = Conference
        fields = "__all__"


@admin.register(Conference, site=tenant_admin_site)
class ConferenceAdmin(TelephonyAdmin):
    noun = "conference"
    form = ConferenceForm
    list_display = ("number", "name", "max_members", "record", "music_when_alone", "wait_for_admin")
    list_filter = ("record", "wait_for_admin")
    search_fields = ("number", "name")

    def service_data(self, form) -> dict:
        data = super().service_data(form)
        for secret in ("pin", "admin_pin"):
            if not data.get(secret):
                data.pop(secret, None)  # empty: keep the stored one
        return data


@admin.register(ParkingLot, site=tenant_admin_site)
class ParkingLotAdmin(TelephonyAdmin):
    noun = "parking_lot"
    list_display = ("number", "name", "slot_start", "slot_end", "timeout")
    search_fields = ("number", "name")


class PagingMemberInline(Inline):
    model = PagingMember
    autocomplete_fields = ("extension",)


@admin.register(PagingGroup, site=tenant_admin_site)
class PagingGroupAdmin(TelephonyAdmin):
    noun = "paging_group"
    inlines = [PagingMemberInline]
    inline_fields = {PagingMember: ("members", lambda d: _pk(d.get("extension")))}
    list_display = ("number", "name", "duplex", "timeout", "member_count")
    list_filter = ("duplex",)
    search_fields = ("number", "name")

    @admin.display(description="members")
    def member_count(self, obj):
        return len(obj.members.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")
