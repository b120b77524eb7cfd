from rest_framework import serializers

from apps.tenants.models import Reseller
from apps.webhooks.models import Attempt, Delivery, Subscription


class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    group = serializers.CharField()
    description = serializers.CharField()
    system = serializers.BooleanField(help_text="Also delivered to system webhooks (cross-tenant lifecycle).")
    schema = serializers.JSONField(help_text="JSON Schema of the event's `data`.")
    example = serializers.JSONField(help_text="An example of `data`.")


class WebhookSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100), allow_empty=True,
        help_text="Exact types (`crm.contact.created`), groups (`crm.*`, `config.extension.*`) or `*`.")
    headers = serializers.DictField(child=serializers.CharField(max_length=1000, allow_blank=True), required=False,
                                    help_text="Custom headers sent with every delivery.")
    secret = serializers.CharField(write_only=True, required=False,
                                   help_text="Optional: your own `whsec_...` secret. Generated when left out; "
                                             "shown once, in the create response.")

    class Meta:
        model = Subscription
        fields = ("id", "url", "description", "event_types", "enabled", "disabled_reason", "disabled_at",
                  "failing_since", "headers", "secret", "previous_secret_expires_at", "created_by", "created_at",
                  "updated_at")
        read_only_fields = ("disabled_reason", "disabled_at", "failing_since", "previous_secret_expires_at",
                            "created_by", "created_at", "updated_at")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "_reveal_secret", False):
            data["secret"] = instance.secret
        return data


class WebhookWithSecretSerializer(WebhookSerializer):
    """The create response: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: store it now, it is not shown again.")


class SystemWebhookSerializer(WebhookSerializer):
    reseller = serializers.SlugRelatedField(
        slug_field="slug", queryset=Reseller.objects.all(), required=False, allow_null=True,
        help_text="Only this reseller's tenants. Empty: every tenant (system credentials only). A reseller's "
                  "credential always gets its own reseller.")
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                        help_text="Selectors over system events; default `*`.")

    class Meta(WebhookSerializer.Meta):
        fields = ("id", "reseller", *WebhookSerializer.Meta.fields[1:])

    def validate_reseller(self, reseller):
        principal = self.context["request"].auth
        if reseller is not None and not principal.can_see_reseller(reseller.pk):
            raise serializers.ValidationError("No such reseller.", code="does_not_exist")
        if reseller is None and not principal.is_system:
            raise serializers.ValidationError("Only system credentials may watch every tenant.")
        return reseller

    def validate(self, attrs):
        principal = self.context["request"].auth
        if self.instance is None and "reseller" not in attrs and not principal.is_system:
            attrs["reseller"] = Reseller.objects.get(pk=principal.reseller_id)
        return attrs


class SystemWebhookWithSecretSerializer(SystemWebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: store it now, it is not shown again.")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ("id", "attempted_at", "succeeded", "status_code", "duration_ms", "response_excerpt", "error",
                  "address")


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.SerializerMethodField()
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ("id", "event_type", "event_id", "message_id", "is_test", "status", "attempt_count",
                  "next_attempt_at", "last_attempt_at", "delivered_at", "last_status_code", "last_error",
                  "created_at", "attempts")

    def get_event_id(self, delivery) -> str | None:
        if delivery.event_id is not None:
            return str(delivery.event.event_id)
        return (delivery.payload or {}).get("event_id")


class TestRequestSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=100, help_text="The type whose example is sent.")


class RotateRequestSerializer(serializers.Serializer):
    overlap_hours = serializers.FloatField(required=False, min_value=0, max_value=168,
                                           help_text="How long the old secret keeps signing too (default 24).")


class RotateResponseSerializer(serializers.Serializer):
    secret = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class RecoverRequestSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(required=False)


class RecoverResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Events that had no delivery to this webhook.")
    requeued = serializers.IntegerField(help_text="Failed deliveries queued again.")
