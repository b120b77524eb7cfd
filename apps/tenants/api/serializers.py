from rest_framework import serializers

from apps.pbx.models import Server
from apps.tenants.models import Reseller, Tenant


class ResellerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reseller
        fields = ("id", "name", "slug", "contact_email", "max_tenants", "is_active", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class TenantSerializer(serializers.ModelSerializer):
    reseller = serializers.SlugRelatedField(slug_field="slug", queryset=Reseller.objects.all(), required=False,
                                            help_text="Reseller slug. Defaults to the caller's reseller.")
    primary_server = serializers.SlugRelatedField(slug_field="name", queryset=Server.objects.all(), required=False,
                                                  allow_null=True)

    class Meta:
        model = Tenant
        fields = (
            "id", "slug", "name", "reseller", "status", "suspended_reason", "max_extensions", "max_dids", "max_queues",
            "max_trunks", "extension_length", "default_region", "timezone", "primary_server", "notes",
            "created_at", "updated_at",
        )
        read_only_fields = ("status", "suspended_reason", "created_at", "updated_at")
        extra_kwargs = {"slug": {"validators": []}}  # uniqueness is the service's (409 slug_taken)

    def validate_reseller(self, reseller):
        principal = self.context["request"].auth
        if not principal.can_see_reseller(reseller.pk):
            raise serializers.ValidationError("No such reseller.", code="does_not_exist")
        return reseller

    def validate(self, attrs):
        principal = self.context["request"].auth
        if self.instance is None and "reseller" not in attrs:
            if principal.reseller_id is None:
                raise serializers.ValidationError({"reseller": ["This field is required."]}, code="required")
            attrs["reseller"] = Reseller.objects.get(pk=principal.reseller_id)
        if self.instance is not None and "reseller" in attrs and not principal.is_system:
            if attrs["reseller"].pk != self.instance.reseller_id:
                raise serializers.ValidationError({"reseller": ["Only system admins can move a tenant."]})
        return attrs


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
