"""Telephony viewsets: ``/api/<resource>/<tenant>/``. They declare; the base class and the
services do the rest."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.telephony import selectors, services
from apps.telephony.api import filters, serializers
from thirdlane.api.viewsets import TenantScopedViewSet


class ExtensionViewSet(TenantScopedViewSet):
    """Extensions (SIP phones). ``POST .../bulk`` creates a range, all or nothing."""

    queryset = selectors.extension_list()
    serializer_class = serializers.ExtensionSerializer
    filterset_class = filters.ExtensionFilter
    search_fields = ("number", "name", "email", "caller_id_name")
    ordering_fields = ("number", "name", "email", "created_at", "updated_at")
    ordering = ("number",)
    create_service = staticmethod(services.extension_create)
    update_service = staticmethod(services.extension_update)
    delete_service = staticmethod(services.extension_delete)

    @extend_schema(request=serializers.ExtensionBulkSerializer,
                   responses={201: serializers.ExtensionSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def bulk(self, request, tenant=None):
        body = self.body(serializers.ExtensionBulkSerializer)
        created = services.extension_bulk_create(**self.service_kwargs(), **body.validated_data)
        data = serializers.ExtensionSerializer(created, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"X-Total-Count": str(len(created))})


class DidViewSet(TenantScopedViewSet):
    """DIDs: E.164 numbers, unique across the platform, each routed to a destination."""

    queryset = selectors.did_list()
    serializer_class = serializers.DidSerializer
    filterset_class = filters.DidFilter
    search_fields = ("number", "description")
    ordering_fields = ("number", "created_at", "updated_at")
    ordering = ("number",)
    create_service = staticmethod(services.did_create)
    update_service = staticmethod(services.did_update)
    delete_service = staticmethod(services.did_delete)


class TrunkViewSet(TenantScopedViewSet):
    queryset = selectors.trunk_list()
    serializer_class = serializers.TrunkSerializer
    filterset_class = filters.TrunkFilter
    search_fields = ("name", "host", "username")
    ordering_fields = ("name", "host", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.trunk_create)
    update_service = staticmethod(services.trunk_update)
    delete_service = staticmethod(services.trunk_delete)


class OutboundRouteViewSet(TenantScopedViewSet):
    queryset = selectors.outbound_route_list()
    serializer_class = serializers.OutboundRouteSerializer
    filterset_class = filters.OutboundRouteFilter
    search_fields = ("name",)
    ordering_fields = ("priority", "name", "created_at")
    ordering = ("priority", "name")
    create_service = staticmethod(services.outbound_route_create)
    update_service = staticmethod(services.outbound_route_update)
    delete_service = staticmethod(services.outbound_route_delete)


class QueueViewSet(TenantScopedViewSet):
    """Call queues; ``members`` is written as a whole list (extension or agent, penalty)."""

    queryset = selectors.queue_list()
    serializer_class = serializers.QueueSerializer
    filterset_class = filters.QueueFilter
    search_fields = ("number", "name")
    ordering_fields = ("number", "name", "created_at")
    ordering = ("number",)
    create_service = staticmethod(services.queue_create)
    update_service = staticmethod(services.queue_update)
    delete_service = staticmethod(services.queue_delete)


class AgentViewSet(TenantScopedViewSet):
    """Contact-center agents. Their state is read-only here: it changes through
    ``/api/contact-center/<tenant>/agents/<id>/login|logout|pause|unpause``, which also tells the PBX."""

    queryset = selectors.agent_list()
    serializer_class = serializers.AgentSerializer
    filterset_class = filters.AgentFilter
    search_fields = ("name", "login_code")
    ordering_fields = ("name", "state", "state_changed_at", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.agent_create)
    update_service = staticmethod(services.agent_update)
    delete_service = staticmethod(services.agent_delete)


class IvrViewSet(TenantScopedViewSet):
    """IVRs (auto attendants) with their digit options."""

    queryset = selectors.ivr_list()
    serializer_class = serializers.IvrSerializer
    filterset_class = filters.IvrFilter
    search_fields = ("number", "name")
    ordering_fields = ("number", "name", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.ivr_create)
    update_service = staticmethod(services.ivr_update)
    delete_service = staticmethod(services.ivr_delete)


class ScheduleViewSet(TenantScopedViewSet):
    """Schedules: weekly opening ranges and holidays, in the schedule's time zone."""

    queryset = selectors.schedule_list()
    serializer_class = serializers.ScheduleSerializer
    filterset_class = filters.ScheduleFilter
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.schedule_create)
    update_service = staticmethod(services.schedule_update)
    delete_service = staticmethod(services.schedule_delete)


class TimeConditionViewSet(TenantScopedViewSet):
    """Time conditions. ``POST .../<id>/override {"mode": "force_open"}`` overrides the schedule."""

    queryset = selectors.time_condition_list()
    serializer_class = serializers.TimeConditionSerializer
    filterset_class = filters.TimeConditionFilter
    search_fields = ("name",)
    ordering_fields = ("name", "created_at")
    ordering = ("name",)
    create_service = staticmethod(services.time_condition_create)
    update_service = staticmethod(services.time_condition_update)
    delete_service = staticmethod(services.time_condition_delete)

    @extend_schema(request=serializers.OverrideSerializer, responses=serializers.TimeConditionSerializer)
    @action(detail=True, methods=["post"])
    def override(self, request, tenant=None, pk=None):
        body = self.body(serializers.OverrideSerializer)
        tc = services.time_condition_set_override(**self.service_kwargs(), instance=self.get_object(),
                                                  mode=body.validated_data["mode"])
        return Response(self.get_serializer(tc).data)
