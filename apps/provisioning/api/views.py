"""``/api/phones/<tenant>/``: desk phones, their lines and their provisioning credential."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.provisioning import selectors, services
from apps.provisioning.api import filters, serializers
from apps.provisioning.render import provisioning_url
from thirdlane.api.viewsets import TenantScopedViewSet


class PhoneViewSet(TenantScopedViewSet):
    """Desk phones by MAC address (unique across the platform), with the tenant's extensions on
    their lines. Phones fetch their configuration from the provisioning URL with their MAC and
    provisioning password (docs/provisioning.md)."""

    queryset = selectors.phone_list()
    serializer_class = serializers.PhoneSerializer
    filterset_class = filters.PhoneFilter
    search_fields = ("mac", "name", "model")
    ordering_fields = ("mac", "name", "model", "vendor", "created_at", "updated_at")
    ordering = ("mac",)
    create_service = staticmethod(services.phone_create)
    update_service = staticmethod(services.phone_update)
    delete_service = staticmethod(services.phone_delete)

    @extend_schema(request=serializers.RegenerateCredentialSerializer, responses=serializers.CredentialSerializer)
    @action(detail=True, methods=["post"], url_path="regenerate-credential")
    def regenerate_credential(self, request, tenant=None, pk=None):
        """A new provisioning password, shown once. The previous one keeps working for
        ``grace_hours`` so the phone can fetch the file that carries the new one."""
        body = self.body(serializers.RegenerateCredentialSerializer)
        phone = self.get_object()
        password = services.phone_regenerate_credential(**self.service_kwargs(), instance=phone,
                                                        grace_hours=body.validated_data.get("grace_hours"))
        return Response({"username": phone.mac, "password": password, "provisioning_url": provisioning_url(request)})
