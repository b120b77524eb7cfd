"""Telephony serializers: shape and field-validate; services do every cross-object check.

Secrets (``sip_secret``, ``voicemail_pin``, trunk ``secret``) are write-only. Destinations are
one nested object everywhere: ``{"type": "queue", "id": 4}``, ``{"type": "external",
"number": "+14155550100"}``, ``{"type": "hangup"}``. Uniqueness is left to the services (409 with
a code), so the model's unique validators are switched off here.
"""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from apps.pbx.models import Location
from apps.telephony.destinations import Destination, DestType
from apps.telephony.models import (
    Agent, Did, Extension, HolidayRange, Ivr, OutboundRoute, Queue, Schedule, TimeCondition, Trunk, WeeklyRange,
)

_OBJECT_TYPES = [t for t in DestType.values if t not in (DestType.EXTERNAL, DestType.HANGUP)]
_ID = {"type": ["integer", "null"], "description": "Object id for extension, voicemail, queue, ivr, time_condition, "
                                                 "ring_group."}
_NUMBER = {"type": "string", "description": "For external: the number (E.164, or national in the tenant's "
                                            "default region)."}
# One branch per kind of destination; each lists all three keys, since the API ignores the ones a
# kind does not use.
DESTINATION_SCHEMA = {
    "type": "object",
    "description": "Where a call goes: `{\"type\": \"queue\", \"id\": 4}`, `{\"type\": \"external\", "
                   "\"number\": \"+14155550100\"}`, `{\"type\": \"hangup\"}`.",
    "oneOf": [
        {"type": "object", "required": ["type", "id"],
         "properties": {"type": {"type": "string", "enum": _OBJECT_TYPES}, "id": {**_ID, "type": "integer"},
                        "number": _NUMBER}},
        {"type": "object", "required": ["type", "number"],
         "properties": {"type": {"type": "string", "const": DestType.EXTERNAL.value}, "id": _ID,
                        "number": {**_NUMBER, "format": "phone"}}},
        {"type": "object", "required": ["type"],
         "properties": {"type": {"type": "string", "const": DestType.HANGUP.value}, "id": _ID, "number": _NUMBER}},
    ],
}
NO_UNIQUE = {"validators": []}


class DestinationField(serializers.Field):
    default_error_messages = {"invalid": "A destination is an object with a type."}

    def to_representation(self, value: Destination):
        return value.as_dict() if value.type else None

    def to_internal_value(self, data):
        if data is None:
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self.fail("invalid")
        if set(data) - {"type", "id", "number"}:
            raise serializers.ValidationError("A destination has only type, id and number.")
        target = data.get("id")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            raise serializers.ValidationError("id must be an integer.")
        number = data.get("number") or ""
        if not isinstance(number, str):
            raise serializers.ValidationError("number must be a string.")
        return {"type": data["type"], "id": target, "number": number}


class DestinationFieldSchema(OpenApiSerializerFieldExtension):
    """A destination not set reads as null; a request may send null where the field allows it."""

    target_class = DestinationField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response" or self.target.allow_null:
            # drf-spectacular adds "null" to the type of an allow_null field itself.
            return {**DESTINATION_SCHEMA, "oneOf": [*DESTINATION_SCHEMA["oneOf"], {"type": "null"}],
                    "type": "object" if self.target.allow_null else ["object", "null"]}
        return DESTINATION_SCHEMA


class CodecsField(serializers.ListField):
    child = serializers.CharField(max_length=8)


class ExtensionSerializer(serializers.ModelSerializer):
    sip_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128,
                                       style={"input_type": "password"},
                                       help_text="Write-only. Generated (strong) when absent.")
    voicemail_pin = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=10,
                                          help_text="Write-only. Generated when voicemail is on and none is given.")
    location = serializers.SlugRelatedField(slug_field="code", queryset=Location.objects.all(), allow_null=True,
                                            required=False, help_text="Location code.")
    codecs = CodecsField(required=False)
    phone_username = serializers.SerializerMethodField(help_text="PJSIP endpoint name: <number>-<tenant>.")

    class Meta:
        model = Extension
        fields = ("id", "number", "name", "email", "phone_username", "sip_secret", "location", "caller_id_name",
                  "caller_id_number", "voicemail_enabled", "voicemail_pin", "forward_always", "forward_busy",
                  "forward_no_answer", "ring_time", "dnd", "followme_enabled", "followme_numbers", "followme_delay",
                  "settings_version", "max_contacts", "codecs", "recording_inbound", "recording_outbound", "enabled",
                  "created_at", "updated_at")
        read_only_fields = ("settings_version", "created_at", "updated_at")
        extra_kwargs = {"number": NO_UNIQUE}

    def get_phone_username(self, obj) -> str:
        tenant = self.context.get("tenant")
        return obj.phone_username_for(tenant.slug) if tenant else obj.phone_username


class ExtensionBulkSerializer(serializers.Serializer):
    start = serializers.CharField(required=False, max_length=8)
    end = serializers.CharField(required=False, max_length=8)
    name_template = serializers.CharField(required=False, default="Ext {number}", max_length=100)
    rows = serializers.ListField(child=serializers.DictField(), required=False, allow_empty=False,
                                 help_text="Explicit extensions instead of a range: [{number, name, ...}].")
    defaults = serializers.DictField(required=False, help_text="Fields shared by every new extension.")

    def validate(self, attrs):
        if "rows" in attrs and ("start" in attrs or "end" in attrs):
            raise serializers.ValidationError("Give rows, or start and end, not both.")
        if "rows" not in attrs and not ("start" in attrs and "end" in attrs):
            raise serializers.ValidationError({"start": "start and end are required without rows."})
        return attrs


class DidSerializer(serializers.ModelSerializer):
    destination = DestinationField(source="dest", required=False)

    class Meta:
        model = Did
        fields = ("id", "number", "description", "destination", "caller_id_prefix", "enabled", "sms_enabled",
                  "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": {"validators": [], "help_text": "E.164; national numbers are read in the "
                                                                  "tenant's default region."}}


class TrunkSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=128,
                                   style={"input_type": "password"}, help_text="Write-only.")
    codecs = CodecsField(required=False)
    has_secret = serializers.SerializerMethodField()
    inbound_destination = DestinationField(
        source="inbound", required=False, allow_null=True,
        help_text="Where calls sent to the registration's contact user go when there is no `inbound_did`.")

    class Meta:
        model = Trunk
        fields = ("id", "name", "auth_type", "host", "port", "transport", "username", "secret", "has_secret",
                  "codecs", "max_channels", "outbound_caller_id", "qualify_frequency", "inbound_did",
                  "inbound_destination", "enabled", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": NO_UNIQUE}

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class TrunkIdsField(serializers.ListField):
    """Trunk ids in dialling order, read from the (prefetched) through rows."""

    child = serializers.IntegerField(min_value=1)

    def get_attribute(self, instance):
        return [rt.trunk_id for rt in instance.route_trunks.all()]


class OutboundRouteSerializer(serializers.ModelSerializer):
    trunks = TrunkIdsField(allow_empty=False, help_text="Trunk ids in the order they are tried.")
    dial_patterns = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    emergency_numbers = serializers.ListField(child=serializers.CharField(max_length=10), required=False)

    class Meta:
        model = OutboundRoute
        fields = ("id", "name", "priority", "dial_patterns", "strip_digits", "prepend", "trunks", "is_emergency",
                  "emergency_numbers", "enabled", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": NO_UNIQUE}


class QueueMemberSerializer(serializers.Serializer):
    extension = serializers.IntegerField(required=False, allow_null=True)
    agent = serializers.IntegerField(required=False, allow_null=True)
    penalty = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100)

    def to_representation(self, instance):
        return {"extension": instance.extension_id, "agent": instance.agent_id, "penalty": instance.penalty}


class QueueSerializer(serializers.ModelSerializer):
    fallback = DestinationField(required=False, allow_null=True)
    members = QueueMemberSerializer(many=True, required=False)

    class Meta:
        model = Queue
        fields = ("id", "number", "name", "strategy", "ring_timeout", "wrapup_time", "max_wait", "max_callers",
                  "music_on_hold", "announce_position", "announce_hold_time", "announce_frequency", "join_empty",
                  "fallback", "members", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": NO_UNIQUE}


class AgentSerializer(serializers.ModelSerializer):
    extension = serializers.PrimaryKeyRelatedField(queryset=Extension.objects.all(), allow_null=True,
                                                   required=False)
    queues = serializers.SerializerMethodField(help_text="Queue memberships (edit them on the queue).")

    class Meta:
        model = Agent
        fields = ("id", "name", "extension", "login_code", "state", "pause_reason", "state_changed_at", "queues",
                  "created_at", "updated_at")
        # State changes go through the contact-center actions (they also tell the PBX).
        read_only_fields = ("state", "pause_reason", "state_changed_at", "created_at", "updated_at")
        extra_kwargs = {"login_code": NO_UNIQUE}

    def get_queues(self, obj) -> list[dict]:
        return [{"queue": m.queue_id, "penalty": m.penalty} for m in obj.queue_memberships.all()]


class IvrOptionSerializer(serializers.Serializer):
    digit = serializers.CharField(max_length=1)
    destination = DestinationField(source="dest")


class IvrSerializer(serializers.ModelSerializer):
    invalid_destination = DestinationField(source="invalid", required=False)
    timeout_destination = DestinationField(source="timeout_dest", required=False)
    options = IvrOptionSerializer(many=True, required=False)

    class Meta:
        model = Ivr
        fields = ("id", "number", "name", "greeting_recording", "greeting_text", "timeout", "repeat_count",
                  "direct_dial", "invalid_destination", "timeout_destination", "options", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"number": {"validators": [], "allow_null": True, "required": False}}


class WeeklyRangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklyRange
        fields = ("day_of_week", "start_time", "end_time")


class HolidayRangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = HolidayRange
        fields = ("name", "start_date", "end_date")


class ScheduleSerializer(serializers.ModelSerializer):
    weekly_ranges = WeeklyRangeSerializer(many=True, required=False)
    holidays = HolidayRangeSerializer(many=True, required=False)

    class Meta:
        model = Schedule
        fields = ("id", "name", "timezone", "description", "weekly_ranges", "holidays", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": NO_UNIQUE, "timezone": {"required": False}}


class TimeConditionSerializer(serializers.ModelSerializer):
    schedule = serializers.PrimaryKeyRelatedField(queryset=Schedule.objects.all())
    match_destination = DestinationField(source="match")
    no_match_destination = DestinationField(source="no_match")

    class Meta:
        model = TimeCondition
        fields = ("id", "name", "schedule", "match_destination", "no_match_destination", "override",
                  "override_changed_at", "created_at", "updated_at")
        read_only_fields = ("override_changed_at", "created_at", "updated_at")
        extra_kwargs = {"name": NO_UNIQUE}


class OverrideSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=TimeCondition.Override.choices)
