from rest_framework import serializers

from apps.pbx.models import Server
from apps.tenants.models import Reseller, Tenant
from thirdlane.api.serializers import ResellerOwnedMixin


class ResellerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reseller
        fields = ("id", "name", "slug", "contact_email", "max_tenants", "is_active", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class TenantSerializer(ResellerOwnedMixin, serializers.ModelSerializer):
    owned_noun = "tenant"
    reseller = serializers.SlugRelatedField(slug_field="slug", queryset=Reseller.objects.all(), required=False,
                                            help_text="Reseller slug. Defaults to the caller's reseller.")
    primary_server = serializers.SlugRelatedField(slug_field="name", queryset=Server.objects.all(), required=False,
                                                  allow_null=True)

    class Meta:
        model = Tenant
        fields = (
            "id", "slug", "name", "reseller", "status", "suspended_reason", "max_extensions", "max_dids", "max_queues",
            "max_trunks", "extension_length", "default_region", "timezone", "primary_server", "notes",
            "crm_call_logging", "crm_call_log_directions", "account_code", "cdr_retention_days", "call_retention_days",
            "created_at", "updated_at",
        )
        read_only_fields = ("status", "suspended_reason", "created_at", "updated_at")
        extra_kwargs = {"slug": {"validators": []}}  # uniqueness is the service's (409 slug_taken)


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
