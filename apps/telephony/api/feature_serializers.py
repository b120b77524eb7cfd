"""Serializers of the PBX features (issue 12): ring groups, block lists, feature codes, conferences,
parking lots, paging groups.

Shape and field types only; the services validate members, entries, numbers, destinations and
code clashes (errors named ``members[2].number``, ``entries[0].value`` ...).
"""
from __future__ import annotations

from rest_framework import serializers

from apps.telephony.api.serializers import NO_UNIQUE, DestinationField
from apps.telephony.features import BY_KEY, CODE_PATTERN
from apps.telephony.models import (
    BlockList, BlockListEntry, Conference, Did, FeatureCode, PagingGroup, ParkingLot, RingGroup,
)


class RingGroupMemberSerializer(serializers.Serializer):
    extension = serializers.IntegerField(required=False, allow_null=True, help_text="Extension id (or number).")
    number = serializers.CharField(required=False, allow_null=True, max_length=32,
                                   help_text="External number (E.164, or national in the tenant's region).")
    delay = serializers.IntegerField(required=False, default=0, min_value=0, max_value=120,
                                     help_text="Ring all: seconds before this member rings.")
    ring_time = serializers.IntegerField(required=False, default=20, min_value=5, max_value=300,
                                         help_text="Seconds this member rings.")

    def to_representation(self, instance):
        return {"extension": instance.extension_id, "number": instance.number or None, "delay": instance.delay,
                "ring_time": instance.ring_time}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.get("number"):
            value.pop("number", None)
        if value.get("extension") is None:
            value.pop("extension", None)
        return value


class RingGroupSerializer(serializers.ModelSerializer):
    no_answer_destination = DestinationField(source="no_answer", required=False)
    members = RingGroupMemberSerializer(many=True, required=False)

    class Meta:
        model = RingGroup
        fields = ("id", "number", "name", "strategy", "ring_time", "caller_id_prefix", "no_answer_destination",
                  "members", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": NO_UNIQUE}


class BlockListEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BlockListEntry.Kind.choices, default=BlockListEntry.Kind.NUMBER)
    value = serializers.CharField(max_length=40, help_text="number: a phone number (stored E.164); pattern: an "
                                                          "Asterisk pattern such as _+1900X.")
    description = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def to_representation(self, instance):
        return {"kind": instance.kind, "value": instance.value, "description": instance.description}


class BlockListSerializer(serializers.ModelSerializer):
    entries = BlockListEntrySerializer(many=True, required=False)
    dids = serializers.PrimaryKeyRelatedField(many=True, queryset=Did.objects.all(), required=False,
                                              help_text="DID ids the list is checked on when all_dids is false.")

    class Meta:
        model = BlockList
        fields = ("id", "name", "all_dids", "dids", "block_anonymous", "action", "enabled", "entries",
                  "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": NO_UNIQUE}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if "dids" in value:
            value["dids"] = [d.pk for d in value["dids"]]
        return value


class FeatureCodeSerializer(serializers.ModelSerializer):
    feature = serializers.ChoiceField(choices=[(k, f.label) for k, f in BY_KEY.items()])
    code = serializers.RegexField(CODE_PATTERN, max_length=10, required=False,
                                  help_text="2 to 8 of 0-9, * and #; default: the feature's default code.")
    default = serializers.SerializerMethodField(help_text="The feature's default code.")

    class Meta:
        model = FeatureCode
        fields = ("id", "feature", "code", "enabled", "default")
        extra_kwargs = {"code": NO_UNIQUE}

    def get_default(self, obj) -> str:
        feature = BY_KEY.get(obj.feature)
        return feature.default if feature else ""


class EffectiveFeatureCodeSerializer(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    code = serializers.CharField()
    default = serializers.CharField()
    enabled = serializers.BooleanField()
    customised = serializers.BooleanField(help_text="A feature-code row of the tenant sets it.")
    argument = serializers.CharField(help_text="What is dialled after the code: '', number, extension, queue.")

    def to_representation(self, item):
        return {"feature": item.feature.key, "label": item.feature.label, "code": item.code,
                "default": item.feature.default, "enabled": item.enabled, "customised": item.customised,
                "argument": item.feature.argument}


class ConferenceSerializer(serializers.ModelSerializer):
    pin = serializers.CharField(write_only=True, required=False, allow_blank=True, allow_null=True, max_length=10,
                                help_text="Write-only. 3 to 10 digits; empty: no PIN; absent or null: keep.")
    admin_pin = serializers.CharField(write_only=True, required=False, allow_blank=True, allow_null=True,
                                      max_length=10, help_text="Write-only. Joins as the administrator.")
    has_pin = serializers.SerializerMethodField()
    has_admin_pin = serializers.SerializerMethodField()

    class Meta:
        model = Conference
        fields = ("id", "number", "name", "pin", "has_pin", "admin_pin", "has_admin_pin", "max_members", "record",
                  "music_when_alone", "music_class", "announce_join_leave", "wait_for_admin", "created_at",
                  "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": NO_UNIQUE}

    def get_has_pin(self, obj) -> bool:
        return bool(obj.pin)

    def get_has_admin_pin(self, obj) -> bool:
        return bool(obj.admin_pin)


class ParkingLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ParkingLot
        fields = ("id", "name", "number", "slot_start", "slot_end", "timeout", "music_class", "created_at",
                  "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": {**NO_UNIQUE, "help_text": "Park extension: transfer a call to it to park it."},
                        "name": NO_UNIQUE}


class PagingMembersField(serializers.ListField):
    child = serializers.IntegerField(min_value=1)

    def get_attribute(self, instance):
        return sorted(m.extension_id for m in instance.members.all())


class PagingGroupSerializer(serializers.ModelSerializer):
    members = PagingMembersField(required=False, help_text="Extension ids whose phones are paged.")

    class Meta:
        model = PagingGroup
        fields = ("id", "number", "name", "duplex", "timeout", "members", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": NO_UNIQUE}
