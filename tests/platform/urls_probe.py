"""A tenant-scoped probe resource for testing the base viewset itself, apart from any domain
viewset: plain schedules of the tenant's schema through the generic services, plus actions that
report the active schema and that fail on purpose.
"""
from apps.telephony.models import Schedule
from django.db import connection
from django.urls import include, path
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from thirdlane.api.routers import Router, tenant_prefix
from thirdlane.api.viewsets import TenantScopedViewSet


class ProbeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = ("id", "name", "timezone")


class ProbeViewSet(TenantScopedViewSet):
    queryset = Schedule.objects.all()
    serializer_class = ProbeSerializer
    filterset_fields = ("timezone",)
    search_fields = ("name",)
    ordering_fields = ("id", "name")
    ordering = ("id",)

    @action(detail=False, methods=["get"])
    def schema(self, request, tenant=None):
        with connection.cursor() as cursor:
            cursor.execute("SHOW search_path")
            return Response({"search_path": cursor.fetchone()[0]})

    @action(detail=False, methods=["get", "post"])
    def boom(self, request, tenant=None):
        raise RuntimeError("probe failure with secret=hunter2")


router = Router()
router.register(tenant_prefix("probe"), ProbeViewSet, basename="probe")

urlpatterns = [path("api/", include(router.urls)), path("", include("thirdlane.urls"))]
