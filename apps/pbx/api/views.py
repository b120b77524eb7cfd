"""/api/servers/ and /api/locations/.

System credentials manage both. Resellers read the active PBX servers (to choose a tenant's
``primary_server``) and the servers hosting their tenants; tenant credentials read the server
hosting them. Others get the summary fields only: AMI endpoint, config directory and the
rendered configuration (which holds SIP secrets) are for system credentials.
"""
from django.db.models import Count, Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.pbx import services
from apps.pbx.api.serializers import (
    AmiCheckSerializer, ConfigPushSerializer, LocationSerializer, ServerSerializer, ServerSummarySerializer,
)
from apps.pbx.models import ConfigPush, Location, Server
from apps.pbx.render import FILES
from thirdlane.api.errors import DomainError, NotFound
from thirdlane.api.permissions import IsSystem, SystemWritesOthersRead
from thirdlane.api.filters import reject_unknown_params
from thirdlane.api.viewsets import PlatformViewSet


class LocationViewSet(PlatformViewSet):
    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    permission_classes = [SystemWritesOthersRead]
    filterset_fields = ("code",)
    search_fields = ("name", "code")
    ordering_fields = ("name", "code", "created_at")
    ordering = ("name",)
    create_service = services.location_create
    update_service = services.location_update
    delete_service = services.location_delete

    def scope_queryset(self, queryset, principal):
        return queryset  # locations are not secret: every credential may read them


class ServerViewSet(PlatformViewSet):
    queryset = Server.objects.select_related("location").annotate(tenant_count=Count("tenants"))
    serializer_class = ServerSerializer
    permission_classes = [SystemWritesOthersRead]
    filterset_fields = ("role", "is_active", "location__code")
    search_fields = ("name", "host", "sip_address")
    ordering_fields = ("name", "created_at", "role")
    ordering = ("name",)
    create_service = services.server_create
    update_service = services.server_update
    delete_service = services.server_delete

    def scope_queryset(self, queryset, principal):
        if principal.is_system:
            return queryset
        if principal.scope == Scope.RESELLER:
            hosting = Q(pk__in=Server.objects.filter(tenants__reseller_id=principal.reseller_id).values("pk"))
            return queryset.filter(Q(is_active=True, role=Server.Role.PBX) | hosting)
        tenants = principal.visible_tenants()
        return queryset.filter(pk__in=tenants.exclude(primary_server=None).values("primary_server_id"))

    def get_serializer_class(self):
        principal = self.principal
        if principal is not None and not principal.is_system:
            return ServerSummarySerializer
        return super().get_serializer_class()

    # --- configuration --------------------------------------------------------------------------
    @extend_schema(
        parameters=[OpenApiParameter("file", str, enum=list(FILES), required=False,
                                     description="Return only this file, as text/plain.")],
        responses={(200, "application/json"): OpenApiResponse(
                       {"type": "object", "additionalProperties": {"type": "string"}},
                       description="{filename: text}; with ?file=, the file as text/plain."),
                   (200, "text/plain"): OpenApiResponse({"type": "string"}, description="One file (?file=).")},
    )
    @action(detail=True, methods=["get"], permission_classes=[IsSystem])
    def config(self, request, pk=None):
        """The configuration files rendered for this server now, SIP passwords and voicemail PINs
        replaced by ``********`` (secrets are write-only; only a push writes the real values).
        The ETag is the checksum of the real files, as recorded on pushes."""
        from apps.pbx.render import redacted, render_server

        server = self.get_object()
        wanted = request.query_params.get("file")
        reject_unknown_params(request.query_params, {"file"})
        if wanted is not None and wanted not in FILES:
            raise DomainError(f"file must be one of {', '.join(FILES)}.", code="validation_error", field="file")
        rendered = render_server(server)
        files = redacted(rendered.files)
        headers = {"ETag": f'"{rendered.checksum}"', "Cache-Control": "no-store"}
        if wanted:
            response = HttpResponse(files[wanted], content_type="text/plain; charset=utf-8")
            for key, value in headers.items():
                response[key] = value
            return response
        return Response(files, headers=headers)

    @extend_schema(request=None, responses={202: ConfigPushSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsSystem])
    def apply(self, request, pk=None):
        """Queue a push: render, write to config_dir and reload through AMI. Poll the push for progress."""
        push = services.config_push_request(actor=self.principal, server=self.get_object())
        body = ConfigPushSerializer(push, context=self.get_serializer_context()).data
        return Response(body, status=202, headers={"Location": f"/api/servers/{push.server_id}/pushes/{push.pk}/"})

    @extend_schema(responses=ConfigPushSerializer(many=True))
    @action(detail=True, methods=["get"], permission_classes=[IsSystem])
    def pushes(self, request, pk=None):
        """This server's configuration pushes, newest first, with their progress in percent."""
        server = self.get_object()
        return self.paginated(ConfigPush.objects.filter(server=server).order_by("-created_at", "-id"),
                              ConfigPushSerializer)

    @extend_schema(responses=ConfigPushSerializer)
    @action(detail=True, methods=["get"], permission_classes=[IsSystem], url_path=r"pushes/(?P<push_id>[0-9]+)")
    def push(self, request, pk=None, push_id=None):
        push = ConfigPush.objects.filter(server=self.get_object(), pk=push_id).first()
        if push is None:
            raise NotFound("No such push.")
        return Response(ConfigPushSerializer(push, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=AmiCheckSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsSystem], url_path="ami-check")
    def ami_check(self, request, pk=None):
        """Log in to the server's AMI and ping it; says whether it works and how fast."""
        from apps.pbx.apply import check_connection

        return Response(check_connection(self.get_object()))
