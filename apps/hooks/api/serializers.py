from rest_framework import serializers

from apps.hooks.models import CustomDialplan, RoutingHook
from apps.telephony.api.serializers import DestinationField


class CustomDialplanSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomDialplan
        fields = ("id", "point", "description", "dialplan", "enabled", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"point": {"validators": []}, "dialplan": {"trim_whitespace": False}}


class RoutingHookSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                   help_text="Optional: your own `whsec_...` secret. Generated when left out; shown "
                                             "once, in the create response.")
    fallback_destination = DestinationField(
        source="fallback", required=False, allow_null=True,
        help_text="Where calls go when the URL fails (timeout, error, a destination that is not the tenant's). "
                  "Empty: the DID's own destination.")

    class Meta:
        model = RoutingHook
        fields = ("id", "name", "url", "secret", "timeout_ms", "fallback_destination", "enabled", "created_at",
                  "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(instance, "_reveal_secret", False):
            data["secret"] = instance.secret
        return data


class RoutingHookWithSecretSerializer(RoutingHookSerializer):
    """The create response: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: store it now, it is not shown again.")
