"""A tenant-scoped probe resource for testing the base viewset itself, before any domain app.

It lists the content types of the tenant's own schema (a table every tenant schema has), and
has actions that report the active schema and that fail on purpose.
"""
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import include, path
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from thirdlane.api.routers import Router, tenant_prefix
from thirdlane.api.viewsets import TenantScopedViewSet


class ProbeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentType
        fields = ("id", "app_label", "model")


class ProbeViewSet(TenantScopedViewSet):
    queryset = ContentType.objects.all()
    serializer_class = ProbeSerializer
    filterset_fields = ("app_label",)
    search_fields = ("model",)
    ordering_fields = ("id", "model")
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
