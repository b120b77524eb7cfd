from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts import services
from apps.accounts.api.serializers import ApiKeySerializer, IssuedKeySerializer, RotateSerializer
from apps.accounts.models import ApiKey
from thirdlane.api.viewsets import PlatformViewSet


def _with_key(issued, context) -> dict:
    data = IssuedKeySerializer(issued.api_key, context=context).data
    data["key"] = issued.key
    return data


class ApiKeyViewSet(PlatformViewSet):
    """API keys within the caller's scope. The secret is returned once, on create and rotate.

    DELETE revokes (the row stays, for the audit trail)."""

    queryset = ApiKey.objects.select_related("tenant", "reseller", "organization")
    serializer_class = ApiKeySerializer
    filterset_fields = ("scope", "read_only")
    search_fields = ("name", "prefix")
    ordering_fields = ("created_at", "name", "last_used_at", "expires_at")
    ordering = ("-created_at",)
    http_method_names = ["get", "post", "delete", "head", "options"]

    scope_fields = {"tenant": "tenant", "reseller": "reseller", "organization": "organization"}

    @extend_schema(responses={201: IssuedKeySerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)  # unknown fields refused there
        serializer.is_valid(raise_exception=True)
        issued = services.api_key_create(actor=self.principal, **serializer.validated_data)
        return Response(_with_key(issued, self.get_serializer_context()), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.api_key_revoke(actor=self.principal, api_key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        api_key = services.api_key_revoke(actor=self.principal, api_key=self.get_object())
        return Response(ApiKeySerializer(api_key, context=self.get_serializer_context()).data)

    @extend_schema(request=RotateSerializer, responses={201: IssuedKeySerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        body = self.body(RotateSerializer)
        issued = services.api_key_rotate(actor=self.principal, api_key=self.get_object(), grace=body.grace())
        return Response(_with_key(issued, self.get_serializer_context()), status=status.HTTP_201_CREATED)
