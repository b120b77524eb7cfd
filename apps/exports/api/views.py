"""Scheduled billing exports (system and reseller credentials) and their runs."""
from __future__ import annotations

import os

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.exports import services
from apps.exports.api.serializers import ExportRunSerializer, ExportScheduleSerializer
from apps.exports.models import ExportRun, ExportSchedule
from thirdlane.api.errors import DomainError
from thirdlane.api.permissions import IsAuthenticatedPrincipal, principal_of
from thirdlane.api.viewsets import PlatformViewSet, ReadOnlyPlatformViewSet


class ResellerOrSystem(IsAuthenticatedPrincipal):
    """Exports are for system admins and resellers (of their own tenants)."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if principal_of(request).scope not in (Scope.SYSTEM, Scope.RESELLER):
            raise exceptions.PermissionDenied("Billing exports are for system and reseller credentials.",
                                              code="permission_denied")
        return True


class ExportScheduleViewSet(PlatformViewSet):
    """Scheduled exports of CDRs, agent statistics or call counters, for one tenant or all of a
    reseller's tenants, as CSV or JSON lines, to a signed HTTP endpoint, an S3-compatible bucket,
    SFTP or a directory on the server. Each run exports what was written since the last successful
    run (no gap, no duplicate); `run` starts one now."""

    queryset = ExportSchedule.objects.select_related("reseller", "tenant")
    serializer_class = ExportScheduleSerializer
    permission_classes = [ResellerOrSystem]
    filterset_fields = ("dataset", "destination_type", "enabled")
    search_fields = ("name",)
    ordering_fields = ("id", "name", "next_run_at")
    ordering = ("id",)
    lookup_value_regex = r"\d+"
    scope_fields = {"reseller": "reseller"}
    update_service = services.schedule_update
    delete_service = services.schedule_delete

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        if "reseller" not in data:
            tenant = data.get("tenant")
            if tenant is not None:
                data["reseller"] = tenant.reseller
            elif self.principal.reseller_id is not None:
                from apps.tenants.models import Reseller

                data["reseller"] = Reseller.objects.get(pk=self.principal.reseller_id)
        serializer.instance = services.schedule_create(actor=self.principal, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "reseller" in data and not self.principal.is_system \
                and data["reseller"].pk != serializer.instance.reseller_id:
            raise DomainError("Only system admins can move a schedule to another reseller.", code="permission_denied",
                              status=403)
        serializer.instance = services.schedule_update(actor=self.principal, instance=serializer.instance, **data)

    @extend_schema(request=None, responses={202: ExportRunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Run the export now (progress on the run; the same rows the next scheduled run would take)."""
        run = services.run_now(actor=self.principal, schedule=self.get_object())
        return Response(ExportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"/api/export-runs/{run.pk}/"})


class ExportRunViewSet(ReadOnlyPlatformViewSet):
    """Runs of the export schedules: status, progress, rows, bytes, SHA-256, attempts and the error
    of a failed run; `download` gives the run's file while it is kept."""

    queryset = ExportRun.objects.select_related("schedule")
    serializer_class = ExportRunSerializer
    permission_classes = [ResellerOrSystem]
    filterset_fields = ("schedule", "status", "trigger")
    ordering_fields = ("id", "created_at")
    ordering = ("-created_at", "-id")
    lookup_value_regex = r"\d+"
    scope_fields = {"reseller": "schedule__reseller"}

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
                              (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The run's file, exactly as delivered (its SHA-256 is the run's `sha256`)."""
        run = self.get_object()
        if not run.file_path or not os.path.exists(run.file_path):
            raise DomainError("This run has no file (not written yet, or no longer kept).", code="not_found",
                              status=404)
        content_type = "text/csv; charset=utf-8" if run.file_name.endswith(".csv") else "application/x-ndjson"
        return FileResponse(open(run.file_path, "rb"), as_attachment=True, filename=run.file_name,
                            content_type=content_type)
