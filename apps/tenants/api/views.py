from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.tenants import services
from apps.tenants.api.serializers import ResellerSerializer, SuspendSerializer, TenantSerializer
from apps.tenants.models import Reseller, Tenant
from thirdlane.api.permissions import IsAuthenticatedPrincipal, SystemWritesOthersRead
from thirdlane.api.viewsets import PlatformViewSet


class TenantFilter(filters.FilterSet):
    reseller = filters.CharFilter(field_name="reseller__slug")
    primary_server = filters.CharFilter(field_name="primary_server__name")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Tenant
        fields = ("status", "reseller", "primary_server")


class TenantCreatePermission(IsAuthenticatedPrincipal):
    """Tenant-scoped credentials read and update their tenant; creating or deleting tenants is
    for reseller and system scope."""

    def has_permission(self, request, view):
        super().has_permission(request, view)
        if view.action in ("create", "destroy", "suspend", "resume") and request.auth.scope in (
                Scope.TENANT, Scope.ORGANIZATION):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Tenant credentials cannot do this.", code="permission_denied")
        return True


class TenantViewSet(PlatformViewSet):
    """Tenants within the caller's scope; suspend and resume."""

    queryset = Tenant.objects.select_related("reseller", "primary_server")
    serializer_class = TenantSerializer
    permission_classes = [TenantCreatePermission]
    filterset_class = TenantFilter
    search_fields = ("slug", "name")
    ordering_fields = ("name", "slug", "created_at", "status")
    ordering = ("name",)
    lookup_field = "slug"
    create_service = services.tenant_create

    scope_fields = {"tenant": ""}
    not_found_code = "tenant_not_found"

    def perform_update(self, serializer):
        serializer.instance = services.tenant_update(actor=self.principal, tenant=serializer.instance,
                                                     **serializer.validated_data)

    def perform_destroy(self, instance):
        services.tenant_delete(actor=self.principal, tenant=instance)

    @extend_schema(request=SuspendSerializer, responses=TenantSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, slug=None):
        body = self.body(SuspendSerializer)
        tenant = services.tenant_suspend(actor=self.principal, tenant=self.get_object(), **body.validated_data)
        return Response(TenantSerializer(tenant, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=TenantSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, slug=None):
        tenant = services.tenant_resume(actor=self.principal, tenant=self.get_object())
        return Response(TenantSerializer(tenant, context=self.get_serializer_context()).data)


class ResellerViewSet(PlatformViewSet):
    """Resellers: system admins manage them; a reseller sees itself."""

    queryset = Reseller.objects.all()
    serializer_class = ResellerSerializer
    permission_classes = [SystemWritesOthersRead]
    filterset_fields = ("is_active",)
    search_fields = ("name", "slug")
    ordering_fields = ("name", "slug", "created_at")
    ordering = ("name",)
    lookup_field = "slug"
    create_service = services.reseller_create
    update_service = services.reseller_update
    delete_service = services.reseller_delete

    scope_fields = {"reseller": ""}
