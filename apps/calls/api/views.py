"""Call records, calls in progress and live queues of a tenant; the platform roll-up."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action

from apps.calls import selectors
from apps.calls.api import serializers as s
from apps.calls.api.filters import CallFilter, RollupParams
from apps.calls.models import Call
from apps.tenants.models import Tenant
from thirdlane.api.filters import reject_unknown_params
from thirdlane.api.pagination import PageAlreadyCounted
from thirdlane.api.viewsets import ApiViewSet, TenantScopedViewSet


class CallViewSet(TenantScopedViewSet):
    """Call records: one per call, with its legs; `active` lists calls in progress with their channels,
    `queues` the queues' waiting callers and members' live state."""

    queryset = Call.objects.all()
    serializer_class = s.CallSerializer
    filterset_class = CallFilter
    search_fields = ("caller_number", "callee_number", "caller_name", "callee_name", "did")
    ordering_fields = ("started_at", "duration", "billsec", "id")
    ordering = ("-started_at", "-id")
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.prefetch_related("legs") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return s.CallDetailSerializer if self.action in ("retrieve", "active") else s.CallSerializer

    @extend_schema(responses=s.CallDetailSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"])
    def active(self, request, tenant=None):
        """Calls in progress (ringing or answered), oldest first, with their channels."""
        reject_unknown_params(request.query_params, {"limit", "offset"})
        return self.paginated(selectors.active_calls(), s.CallDetailSerializer)

    @extend_schema(responses=s.LiveQueueSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"])
    def queues(self, request, tenant=None):
        """Each queue's waiting callers (with their wait so far) and its members' state on the PBX."""
        reject_unknown_params(request.query_params, {"limit", "offset"})
        return self.paginated(selectors.live_queues(self.tenant), s.LiveQueueSerializer)


class PlatformCallViewSet(ApiViewSet):
    """Calls of every tenant in the caller's scope (system and reseller credentials), newest first."""

    serializer_class = s.PlatformCallSerializer
    filter_backends: list = []

    @extend_schema(operation_id="platform_calls_list", parameters=[
        OpenApiParameter("tenant", str, description="Only this tenant (slug)."),
        OpenApiParameter("started_after", OpenApiTypes.DATETIME, description="ISO 8601 date-time, inclusive."),
        OpenApiParameter("started_before", OpenApiTypes.DATETIME, description="ISO 8601 date-time, exclusive."),
        OpenApiParameter("direction", str, enum=Call.Direction.values),
        OpenApiParameter("disposition", str, enum=Call.Disposition.values),
    ])
    def list(self, request):
        params = RollupParams.parse(request.query_params)
        tenants = self.principal.visible_tenants(Tenant.objects.all())
        if "tenant" in params:
            tenants = tenants.filter(slug=params.pop("tenant"))
        limit, offset = self.paginator.get_limit(request), self.paginator.get_offset(request)
        items, total = selectors.rollup(tenants.order_by("slug"), limit=limit, offset=offset, **params)
        return self.paginated(PageAlreadyCounted(items, total), s.PlatformCallSerializer)
