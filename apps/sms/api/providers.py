"""/api/sms-providers/: SMS providers through the API, with the admin's rules.

A provider serves one tenant, one reseller (all its tenants) or the system (every tenant). Rows
are kept to the caller's scope like system webhooks: the system sees every provider, a reseller
its own and its tenants', a tenant (or organization) credential its tenants'. Whose a provider is
is fixed at creation; a credential names only owners it can see, and by default owns what it
creates (a reseller's credential: its reseller; a tenant's: its tenant). The provider key and the
signing secret are shown once: in the create answer, and in `rotate-key` / `rotate-secret`.
"""
from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.sms.providers import services
from apps.sms.providers.models import SmsProvider
from apps.tenants.models import Reseller, Tenant
from thirdlane.api.viewsets import PlatformViewSet

OWNER_FIXED = "A provider's tenant and reseller are fixed when it is created; create another provider instead."


class SmsProviderSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(), required=False, allow_null=True,
        help_text="Serve only this tenant. A tenant's credential always gets its own tenant.")
    reseller = serializers.SlugRelatedField(
        slug_field="slug", queryset=Reseller.objects.all(), required=False, allow_null=True,
        help_text="Serve every tenant of this reseller. Neither tenant nor reseller: every tenant (system "
                  "credentials only); a reseller's credential that names neither gets its own reseller.")
    scope = serializers.CharField(read_only=True, help_text="tenant, reseller or system: whom it serves.")
    url = serializers.URLField(max_length=500, help_text=(
        "The adapter's URL; outbound messages are POSTed to it, signed. http(s) only; loopback, private, "
        "link-local and metadata addresses are refused (`webhook_target_refused`) unless the operator "
        "allows private targets."))
    timeout_seconds = serializers.IntegerField(min_value=1, max_value=60, required=False,
                                               help_text="Seconds to wait for the adapter (default 10).")
    secret = serializers.CharField(
        write_only=True, required=False, max_length=200,
        help_text="Optional: your own `whsec_...` signing secret (base64 of 24-64 bytes; `weak_secret` otherwise). "
                  "Generated when left out; never shown again after the create answer.")
    inbound_url = serializers.SerializerMethodField(help_text="Where the adapter posts inbound messages and "
                                                             "receipts (its PORTAL_INBOUND_URL).")
    key_prefix = serializers.CharField(read_only=True, help_text="The visible start of the provider key.")

    class Meta:
        model = SmsProvider
        fields = ("id", "public_id", "name", "kind", "tenant", "reseller", "scope", "url", "inbound_url",
                  "require_signature", "enabled", "timeout_seconds", "secret", "key_prefix",
                  "previous_secret_expires_at", "created_by", "created_at", "updated_at")
        read_only_fields = ("public_id", "kind", "previous_secret_expires_at", "created_by", "created_at",
                            "updated_at")

    def get_inbound_url(self, obj) -> str:
        return f"/api/sms/inbound/{obj.public_id}"

    def validate(self, attrs):
        principal = self.context["request"].auth
        if self.instance is not None:
            # The owner never changes; repeating it (a PUT of what was read) is fine.
            for name in ("tenant", "reseller"):
                if name in attrs and attrs.pop(name) != getattr(self.instance, name):
                    raise serializers.ValidationError({name: [OWNER_FIXED]}, code="immutable")
            return attrs
        tenant, reseller = attrs.get("tenant"), attrs.get("reseller")
        # Owners outside the caller's scope are reported as unknown, like a 404.
        if tenant is not None and not principal.can_see_tenant(tenant):
            raise serializers.ValidationError({"tenant": ["Object does not exist."]}, code="does_not_exist")
        if reseller is not None and not principal.can_see_reseller(reseller.pk):
            raise serializers.ValidationError({"reseller": ["Object does not exist."]}, code="does_not_exist")
        if tenant is not None and reseller is not None:
            raise serializers.ValidationError(
                {"reseller": ["A provider serves one tenant or one reseller: name one of them."]}, code="invalid")
        if tenant is None and reseller is None and not principal.is_system:
            if principal.scope == Scope.RESELLER:
                attrs["reseller"] = Reseller.objects.get(pk=principal.reseller_id)
            elif principal.scope == Scope.TENANT:
                attrs["tenant"] = Tenant.objects.get(pk=principal.tenant_id)
            else:
                raise serializers.ValidationError({"tenant": ["Name the tenant this provider serves."]},
                                                  code="required")
        return attrs


class SmsProviderCreatedSerializer(SmsProviderSerializer):
    """The create answer: the only time the key and the secret are shown."""

    key = serializers.CharField(read_only=True, help_text="`smsk_...`: the adapter's PROVIDER_KEY (sent back in "
                                                          "X-SMS-Provider-Key). Store it now, it is not shown again.")
    secret = serializers.CharField(read_only=True, help_text="`whsec_...`: the adapter's PORTAL_SECRET. Store it "
                                                             "now, it is not shown again.")

    class Meta(SmsProviderSerializer.Meta):
        fields = (*SmsProviderSerializer.Meta.fields, "key")


class RotateSecretRequest(serializers.Serializer):
    overlap_hours = serializers.IntegerField(required=False, min_value=0, max_value=168,
                                             help_text="How long the old secret keeps signing beside the new one "
                                                       "(default 24; 0: it stops at once).")


class RotateSecretResponse(serializers.Serializer):
    secret = serializers.CharField(help_text="The new `whsec_...` secret (shown once).")
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class RotateKeyResponse(serializers.Serializer):
    key = serializers.CharField(help_text="The new `smsk_...` provider key (shown once); the old one no longer works.")
    key_prefix = serializers.CharField()


class SmsProviderFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug", help_text="Providers of this tenant (its slug).")
    reseller = filters.CharFilter(field_name="reseller__slug", help_text="Providers of this reseller (its slug).")

    class Meta:
        model = SmsProvider
        fields = ("enabled", "tenant", "reseller")


class SmsProviderViewSet(PlatformViewSet):
    """SMS providers (the custom HTTP kind: an adapter, see the reference adapters): one tenant's, a
    reseller's (every tenant of it) or the system's (every tenant). A tenant sends through its own
    enabled provider, else its reseller's, else the system's."""

    queryset = SmsProvider.objects.select_related("tenant", "reseller")
    serializer_class = SmsProviderSerializer
    filterset_class = SmsProviderFilter
    search_fields = ("name", "url")
    ordering_fields = ("id", "name", "created_at")
    ordering = ("id",)
    lookup_value_regex = r"\d+"
    scope_fields = {"tenant": "tenant", "reseller": "reseller"}
    update_service = staticmethod(services.provider_update)
    delete_service = staticmethod(services.provider_delete)

    @extend_schema(responses={201: SmsProviderCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Add a provider. The answer holds the provider key and the signing secret, shown only now."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = services.provider_create(actor=self.principal, **serializer.validated_data)
        return Response(SmsProviderCreatedSerializer(provider, context=self.get_serializer_context()).data,
                        status=201)

    @extend_schema(request=RotateSecretRequest, responses=RotateSecretResponse)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        """A new signing secret signs from now; the old one keeps signing beside it (a second `v1,`
        signature) for `overlap_hours`, so the adapter can be switched over without losing a message.
        The new secret is shown once."""
        body = self.body(RotateSecretRequest)
        provider = services.provider_rotate_secret(actor=self.principal, instance=self.get_object(),
                                                   **body.validated_data)
        return Response({"secret": provider.secret,
                         "previous_secret_expires_at": provider.previous_secret_expires_at})

    @extend_schema(request=None, responses=RotateKeyResponse)
    @action(detail=True, methods=["post"], url_path="rotate-key")
    def rotate_key(self, request, *args, **kwargs):
        """A new provider key; the old one stops working at once. Shown once."""
        provider = services.provider_rotate_key(actor=self.principal, instance=self.get_object())
        return Response({"key": provider.key, "key_prefix": provider.key_prefix})
