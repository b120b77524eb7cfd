"""Integrator hooks: custom dialplan per hook point, and HTTP routing hooks."""
from drf_spectacular.utils import extend_schema

from apps.hooks import services
from apps.hooks.api.serializers import CustomDialplanSerializer, RoutingHookSerializer, RoutingHookWithSecretSerializer
from apps.hooks.models import CustomDialplan, RoutingHook
from thirdlane.api.viewsets import TenantScopedViewSet


class CustomDialplanViewSet(TenantScopedViewSet):
    """The tenant's own dialplan lines, run before an inbound DID is routed or an outbound route dials;
    refused (400 `invalid_dialplan` / `foreign_context`, with the line) unless the config checker
    accepts them and they stay in the tenant's own contexts."""

    queryset = CustomDialplan.objects.all()
    serializer_class = CustomDialplanSerializer
    filterset_fields = ("point", "enabled")
    search_fields = ("description",)
    ordering_fields = ("point", "created_at")
    ordering = ("point",)
    create_service = staticmethod(services.custom_dialplan_create)
    update_service = staticmethod(services.custom_dialplan_update)
    delete_service = staticmethod(services.custom_dialplan_delete)


class RoutingHookViewSet(TenantScopedViewSet):
    """An HTTP endpoint asked (through FastAGI, signed like webhooks) where each inbound DID call goes."""

    queryset = RoutingHook.objects.all()
    serializer_class = RoutingHookSerializer
    filterset_fields = ("enabled",)
    search_fields = ("name", "url")
    ordering_fields = ("name", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.routing_hook_create)
    update_service = staticmethod(services.routing_hook_update)
    delete_service = staticmethod(services.routing_hook_delete)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance._reveal_secret = True

    @extend_schema(responses={201: RoutingHookWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
