from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.sms.models import SmsMessage, SmsOptOut, SmsSettings
from apps.sms.services import E164

E164_HELP = "E.164: + and 7-15 digits, e.g. +14155550100."
E164_FIELD = [RegexValidator(E164, "Not an E.164 number (+ and 7-15 digits).", code="invalid_e164")]


class SmsMessageSerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(read_only=True, help_text="The portal's id (sms_<hex>), sent to the adapter.")
    vars()["from"] = serializers.SerializerMethodField(help_text="The sender (the DID for outbound messages).")
    to = serializers.SerializerMethodField(help_text="The recipient (the DID for inbound messages).")

    class Meta:
        model = SmsMessage
        fields = ("id", "message_id", "direction", "status", "from", "to", "did", "remote", "text", "encoding",
                  "segments", "carrier_message_id", "error_code", "error_message", "attempts", "contact_id",
                  "created_at", "sent_at", "delivered_at", "failed_at")
        read_only_fields = fields

    def _outbound(self, obj) -> bool:
        return obj.direction == SmsMessage.Direction.OUTBOUND

    def get_from(self, obj) -> str:
        return obj.did if self._outbound(obj) else obj.remote

    def get_to(self, obj) -> str:
        return obj.remote if self._outbound(obj) else obj.did


class SmsSendSerializer(serializers.Serializer):
    vars()["from"] = serializers.CharField(max_length=16, validators=E164_FIELD,
                                           help_text="One of the tenant's SMS-capable DIDs. " + E164_HELP)
    to = serializers.CharField(max_length=16, validators=E164_FIELD, help_text="The recipient. " + E164_HELP)
    text = serializers.CharField(max_length=3200, trim_whitespace=False,
                                 help_text="GSM-7 when every character allows it, else UCS-2; at most the tenant's "
                                           "max_segments segments (GSM-7 160/153 characters, UCS-2 70/67).")


class ConversationSerializer(serializers.Serializer):
    did = serializers.CharField(help_text="The tenant's number.")
    remote = serializers.CharField(help_text="The other party.")
    messages = serializers.IntegerField()
    inbound = serializers.IntegerField(help_text="How many of them were received.")
    last_at = serializers.DateTimeField()
    last_id = serializers.IntegerField()
    last_text = serializers.CharField()
    last_direction = serializers.ChoiceField(choices=SmsMessage.Direction.choices)
    last_status = serializers.ChoiceField(choices=SmsMessage.Status.choices)
    contact_id = serializers.IntegerField(allow_null=True)


class InboundSerializer(serializers.Serializer):
    """What an adapter POSTs: an inbound message or a delivery receipt."""
    type = serializers.ChoiceField(choices=[("message", "An inbound SMS"), ("receipt", "A delivery receipt")])
    carrier_message_id = serializers.CharField(max_length=100, help_text="The carrier's id of the message.")
    vars()["from"] = serializers.CharField(max_length=16, required=False, validators=E164_FIELD,
                                           help_text="message: the sender (E.164).")
    to = serializers.CharField(max_length=16, required=False, validators=E164_FIELD,
                               help_text="message: the tenant's DID (E.164).")
    text = serializers.CharField(max_length=3200, required=False, allow_blank=True, trim_whitespace=False,
                                 help_text="message: the text.")
    status = serializers.ChoiceField(choices=["sent", "delivered", "failed"], required=False,
                                     help_text="receipt: the message's new status.")
    message_id = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                       help_text="receipt: the portal's message id, when the carrier echoes it.")
    error_code = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                       help_text="receipt (failed): the carrier's error code.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="receipt (failed): the carrier's reason.")

    def validate(self, data):
        needed = ("from", "to", "text") if data["type"] == "message" else ("status",)
        missing = [name for name in needed if name not in data]
        if missing:
            raise serializers.ValidationError({name: [f"Required for a {data['type']}."] for name in missing},
                                              code="required")
        return data


class InboundResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["stored", "duplicate", "applied", "unchanged"],
                                     help_text="stored/duplicate (a message already stored: nothing changed); "
                                               "applied/unchanged (a receipt).")
    message_id = serializers.CharField()
    id = serializers.IntegerField()
    tenant = serializers.CharField()


class InboundBatchSerializer(serializers.Serializer):
    """Up to 100 inbound messages and receipts in one POST (each stored or refused on its own)."""
    items = serializers.ListField(child=InboundSerializer(), min_length=1, max_length=100)


class InboundItemResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["stored", "duplicate", "applied", "unchanged", "error"])
    message_id = serializers.CharField(required=False)
    id = serializers.IntegerField(required=False)
    tenant = serializers.CharField(required=False)
    error = serializers.DictField(required=False, help_text="status error: the problem (code, detail, errors).")


class InboundBatchResultSerializer(serializers.Serializer):
    results = InboundItemResultSerializer(many=True, help_text="One per item, in order.")


class InboundBatchEnvelope(serializers.Serializer):
    """The batch's shape, checked as a whole; each item is then checked on its own."""
    items = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=100)


class SmsSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = SmsSettings
        fields = ("max_segments", "rate_per_minute", "updated_at")
        read_only_fields = ("updated_at",)


class SmsOptOutSerializer(serializers.ModelSerializer):
    did = serializers.CharField(max_length=16, validators=E164_FIELD,
                                help_text="One of the tenant's SMS-capable DIDs. " + E164_HELP)
    remote = serializers.CharField(max_length=16, validators=E164_FIELD,
                                   help_text="The number that receives nothing more from `did`. " + E164_HELP)
    keyword = serializers.CharField(read_only=True, help_text="What opted it out: the STOP word it sent, or `API`.")

    class Meta:
        model = SmsOptOut
        fields = ("id", "did", "remote", "keyword", "created_at")
        read_only_fields = ("created_at",)
        validators: list = []  # a repeat is the service's 409 duplicate, not a 400
