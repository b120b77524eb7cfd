from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.organizations import selectors, services
from apps.organizations.api.serializers import (
    DirectoryEntrySerializer, OrganizationMemberSerializer, OrganizationMemberUpdateSerializer, OrganizationSerializer,
    OrganizationSiteSerializer,
)
from apps.organizations.models import Organization
from apps.organizations.selectors import DIRECTORY_TYPES, QUERY_MAX_LENGTH
from thirdlane.api.errors import DomainError
from thirdlane.api.permissions import IsAuthenticatedPrincipal
from thirdlane.api.filters import reject_unknown_params
from thirdlane.api.pagination import PageAlreadyCounted
from thirdlane.api.viewsets import PlatformViewSet

MEMBER_PATH = r"members/(?P<tenant_slug>[a-z][a-z0-9-]{1,39})"


class OrganizationFilter(filters.FilterSet):
    reseller = filters.CharFilter(field_name="reseller__slug")

    class Meta:
        model = Organization
        fields = ("reseller",)


class OrganizationPermission(IsAuthenticatedPrincipal):
    """Everyone in scope reads; system and reseller credentials write. An organization key reads
    its organization, its members, sites and directory; a tenant key reads the organization its
    tenant is a member of (the directory is shared by the sites), and no other."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if request.method not in permissions.SAFE_METHODS and request.auth.scope not in (Scope.SYSTEM, Scope.RESELLER):
            raise exceptions.PermissionDenied("Only system and reseller credentials change organizations.",
                                              code="permission_denied")
        return True


class OrganizationViewSet(PlatformViewSet):
    """Multi-site enterprises: a reseller's tenants grouped as sites, with a shared directory."""

    queryset = Organization.objects.select_related("reseller")
    serializer_class = OrganizationSerializer
    permission_classes = [OrganizationPermission]
    filterset_class = OrganizationFilter
    search_fields = ("name", "slug")
    ordering_fields = ("name", "slug", "created_at")
    ordering = ("name",)
    create_service = services.organization_create
    update_service = services.organization_update
    delete_service = services.organization_delete

    def scope_queryset(self, queryset, principal):
        return selectors.with_member_count(selectors.organizations_for(principal, queryset, member_reads=True))

    # --- members ----------------------------------------------------------------------------
    def _members(self, organization):
        return organization.members.select_related("tenant", "location").order_by("site_code")

    def _member(self, organization, tenant_slug):
        return get_object_or_404(self._members(organization), tenant__slug=tenant_slug)

    @extend_schema(methods=["GET"], responses=OrganizationMemberSerializer(many=True), filters=False)
    @extend_schema(methods=["POST"], request=OrganizationMemberSerializer,
                   responses={201: OrganizationMemberSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=OrganizationMemberSerializer)
    def members(self, request, pk=None):
        """List the member tenants, or add one (`tenant`, `site_code`, `location`, `address`, `timezone`)."""
        organization = self.get_object()
        if request.method == "GET":
            return self.paginated(self._members(organization), OrganizationMemberSerializer)
        body = self.body(OrganizationMemberSerializer)
        member = services.organization_member_add(actor=self.principal, organization=organization,
                                                  **body.validated_data)
        return Response(OrganizationMemberSerializer(member, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=OrganizationMemberSerializer)
    @extend_schema(methods=["PATCH"], request=OrganizationMemberUpdateSerializer,
                   responses=OrganizationMemberSerializer)
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["get", "patch", "delete"], url_path=MEMBER_PATH, url_name="member",
            serializer_class=OrganizationMemberUpdateSerializer)
    def member(self, request, pk=None, tenant_slug=None):
        """One member: read it, change its site details, or remove it (the tenant is kept)."""
        member = self._member(self.get_object(), tenant_slug)
        if request.method == "GET":
            return Response(OrganizationMemberSerializer(member, context=self.get_serializer_context()).data)
        if request.method == "DELETE":
            services.organization_member_remove(actor=self.principal, member=member)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = self.body(OrganizationMemberUpdateSerializer, instance=member, partial=True)
        member = services.organization_member_update(actor=self.principal, member=member, **body.validated_data)
        return Response(OrganizationMemberSerializer(member, context=self.get_serializer_context()).data)

    # --- reads across member schemas -----------------------------------------------------------
    @extend_schema(responses=OrganizationSiteSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], serializer_class=OrganizationSiteSerializer)
    def sites(self, request, pk=None):
        """The member sites: site code, location, primary server, extension count and status.

        Extension counts of the whole page come from one statement over the member schemas."""
        self._refuse_unknown_params(request, {"limit", "offset"})
        sites = selectors.organization_sites(self.get_object())
        page = selectors.with_extension_counts(self.paginate_queryset(sites))
        return self.get_paginated_response(OrganizationSiteSerializer(page, many=True).data)

    @extend_schema(
        responses=DirectoryEntrySerializer(many=True), filters=False,
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True,
                             description=f"Search text, 1-{QUERY_MAX_LENGTH} characters: name, number, e-mail, "
                                         "company."),
            OpenApiParameter("type", OpenApiTypes.STR, enum=list(DIRECTORY_TYPES),
                             description="Only this kind of entry (default: all)."),
        ],
    )
    @action(detail=True, methods=["get"], serializer_class=DirectoryEntrySerializer)
    def directory(self, request, pk=None):
        """Search the shared directory of every active member: extensions, queues and the CRM
        contacts shared in the directory, best matches first (exact, starts with, word starts
        with, contains), then by name. One statement over all member schemas."""
        self._refuse_unknown_params(request, {"q", "type", "limit", "offset"})
        q = (request.query_params.get("q") or "").strip()
        if not q or len(q) > QUERY_MAX_LENGTH:
            raise DomainError(f"q must be 1-{QUERY_MAX_LENGTH} characters.", code="invalid_query", field="q")
        kind = request.query_params.get("type")
        if kind is not None and kind not in DIRECTORY_TYPES:
            raise DomainError(f"type must be one of {', '.join(DIRECTORY_TYPES)}.", code="invalid_directory_type",
                              field="type")
        organization = self.get_object()
        limit, offset = self.paginator.get_limit(request), self.paginator.get_offset(request)
        result = selectors.directory_search(organization=organization, q=q, limit=limit, offset=offset,
                                            types=(kind,) if kind else DIRECTORY_TYPES)
        entries = [{**entry._asdict(), "intersite_number": entry.intersite_number} for entry in result.entries]
        return self.paginated(PageAlreadyCounted(entries, result.total), DirectoryEntrySerializer)

    @staticmethod
    def _refuse_unknown_params(request, allowed: set[str]) -> None:
        reject_unknown_params(request.query_params, allowed)
