from datetime import timedelta

from rest_framework import serializers

from apps.accounts.models import ApiKey, Scope
from apps.organizations.models import Organization
from apps.tenants.models import Reseller, Tenant


class ApiKeySerializer(serializers.ModelSerializer):
    reseller = serializers.SlugRelatedField(slug_field="slug", queryset=Reseller.objects.all(), required=False,
                                            allow_null=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), required=False,
                                          allow_null=True)
    organization = serializers.SlugRelatedField(slug_field="slug", queryset=Organization.objects.all(),
                                                required=False, allow_null=True)
    key_prefix = serializers.CharField(source="display", read_only=True, help_text="The visible part of the key.")
    state = serializers.SerializerMethodField(help_text="active, expired or revoked.")
    rotated_from = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                      help_text="The key this one replaced, if it was rotated.")

    class Meta:
        model = ApiKey
        fields = ("id", "name", "key_prefix", "scope", "reseller", "tenant", "organization", "read_only",
                  "rate_limit", "expires_at", "last_used_at", "revoked_at", "rotated_from", "state", "created_at")
        read_only_fields = ("last_used_at", "revoked_at", "created_at")
        extra_kwargs = {"scope": {"choices": Scope.choices}}

    def get_state(self, obj) -> str:
        return obj.state()

    def validate(self, attrs):
        # Objects named outside the caller's scope are reported as unknown, like a 404.
        principal = self.context["request"].auth
        tenant = attrs.get("tenant")
        if tenant is not None and not principal.can_see_tenant(tenant):
            raise serializers.ValidationError({"tenant": ["Object does not exist."]}, code="does_not_exist")
        reseller = attrs.get("reseller")
        if reseller is not None and not principal.can_see_reseller(reseller.pk):
            raise serializers.ValidationError({"reseller": ["Object does not exist."]}, code="does_not_exist")
        return attrs


class IssuedKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The full key. Shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = ApiKeySerializer.Meta.fields + ("key",)


class RotateSerializer(serializers.Serializer):
    grace_seconds = serializers.IntegerField(
        required=False, min_value=0, max_value=30 * 24 * 3600,
        help_text="How long the old key keeps working (default 86400).")

    def grace(self) -> timedelta | None:
        seconds = self.validated_data.get("grace_seconds")
        return None if seconds is None else timedelta(seconds=seconds)
