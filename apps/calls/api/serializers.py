from rest_framework import serializers

from apps.calls.models import Call, CallLeg


class CallLegSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallLeg
        fields = ("uniqueid", "channel", "kind", "endpoint", "extension", "caller_number", "caller_name",
                  "connected_number", "started_at", "answered_at", "ended_at", "hangup_cause", "hangup_cause_text",
                  "held")
        read_only_fields = fields


class CallSerializer(serializers.ModelSerializer):
    call_id = serializers.CharField(source="linkedid", read_only=True, help_text="The PBX's linked id.")

    class Meta:
        model = Call
        fields = ("id", "call_id", "direction", "status", "caller_number", "caller_name", "callee_number",
                  "callee_name", "did", "trunk", "extensions", "queue", "agent", "ivr_path", "disposition",
                  "hangup_cause", "hangup_cause_text", "recording", "started_at", "answered_at", "ended_at",
                  "duration", "billsec", "queue_joined_at", "queue_left_at", "contact_id")
        read_only_fields = fields


class CallDetailSerializer(CallSerializer):
    legs = CallLegSerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = CallSerializer.Meta.fields + ("legs",)
        read_only_fields = fields


class PlatformCallSerializer(serializers.Serializer):
    """A call of any tenant in the caller's scope (the platform roll-up)."""
    tenant = serializers.CharField()
    id = serializers.IntegerField()
    call_id = serializers.CharField()
    direction = serializers.CharField()
    status = serializers.CharField()
    caller_number = serializers.CharField()
    callee_number = serializers.CharField()
    did = serializers.CharField()
    queue = serializers.CharField()
    agent = serializers.CharField()
    disposition = serializers.CharField()
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration = serializers.IntegerField(allow_null=True)
    billsec = serializers.IntegerField(allow_null=True)


class WaitingCallerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.CharField()
    caller_number = serializers.CharField()
    caller_name = serializers.CharField()
    joined_at = serializers.DateTimeField()
    waiting_seconds = serializers.IntegerField()


class LiveMemberSerializer(serializers.Serializer):
    extension = serializers.CharField()
    interface = serializers.CharField()
    agent = serializers.DictField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="Device state: not_in_use, in_use, ringing, "
                                                              "unavailable, ...; null before the PBX reported it.")
    paused = serializers.BooleanField()
    paused_reason = serializers.CharField()
    in_call = serializers.BooleanField()


class LiveQueueSerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()
    waiting = WaitingCallerSerializer(many=True)
    members = LiveMemberSerializer(many=True)
