"""Webhook API: the event catalogue, tenant webhooks, system webhooks and their delivery logs.

Subscriptions live in the public schema (the relay must see every tenant's at once), yet tenant
webhooks are served as a tenant resource, ``/api/webhooks/<tenant>/``, by ``TenantScopedViewSet``:
the tenant in the path is resolved and scope-checked exactly like every other tenant resource,
and ``get_queryset`` keeps only that tenant's rows. Activating the tenant's schema for these
requests is harmless (public tables stay on the search path).
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.events.registry import EVENT_TYPES
from apps.webhooks import services
from apps.webhooks.api.serializers import (
    AttemptSerializer, DeliverySerializer, EventTypeSerializer, RecoverRequestSerializer,
    RecoverResponseSerializer, RotateRequestSerializer, RotateResponseSerializer, SystemWebhookSerializer,
    SystemWebhookWithSecretSerializer, TestRequestSerializer, WebhookSerializer, WebhookWithSecretSerializer,
)
from apps.webhooks.models import Delivery, Subscription
from thirdlane.api.errors import DomainError, NotFound
from thirdlane.api.permissions import IsAuthenticatedPrincipal, principal_of
from thirdlane.api.filters import reject_unknown_params
from thirdlane.api.viewsets import ApiViewSet, PlatformViewSet, TenantScopedViewSet


# --- the catalogue ---------------------------------------------------------------------------

class WebhookEventViewSet(ApiViewSet):
    """Every event type a webhook can receive: group, description, JSON schema of `data`, example."""

    serializer_class = EventTypeSerializer
    permission_classes = [IsAuthenticatedPrincipal]
    filter_backends: list = []
    lookup_field = "type"
    lookup_value_regex = r"[a-z0-9_.]+"

    @extend_schema(parameters=[
        OpenApiParameter("group", str, description="Only this group: `crm`, `config`, `communications`, `tenant`, "
                                                   "`system`, ..."),
        OpenApiParameter("system", bool, description="Only the types system webhooks receive."),
    ])
    def list(self, request):
        reject_unknown_params(request.query_params, {"group", "system", "limit", "offset"})
        items = sorted(EVENT_TYPES.values(), key=lambda e: e.type)
        group = request.query_params.get("group")
        if group:
            items = [e for e in items if e.group == group.rstrip(".*")]
        system = request.query_params.get("system")
        if system is not None:
            if system.lower() not in ("true", "false"):
                raise DomainError("system is true or false.", code="invalid_filter", field="system")
            items = [e for e in items if e.system == (system.lower() == "true")]
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, type=None):
        event = EVENT_TYPES.get(type)
        if event is None:
            raise NotFound(f"No event type {type!r}.", code=self.not_found_code)
        return Response(self.get_serializer(event).data)


# --- subscriptions ---------------------------------------------------------------------------

class WebhookActions:
    """test / rotate-secret / recover, shared by tenant and system webhooks."""

    def _owner_tenant(self):
        return getattr(self, "tenant", None)

    @extend_schema(request=TestRequestSerializer, responses=AttemptSerializer,
                   description="Send a sample event of the chosen type now (its catalogue example) and return the "
                               "attempt. Logged as a test delivery; never retried.")
    @action(detail=True, methods=["post"])
    def test(self, request, *args, **kwargs):
        body = self.body(TestRequestSerializer)
        attempt = services.subscription_test(actor=self.principal, instance=self.get_object(),
                                             event_type=body.validated_data["event_type"])
        return Response(AttemptSerializer(attempt).data)

    @extend_schema(request=RotateRequestSerializer, responses=RotateResponseSerializer,
                   description="A new secret signs from now; the old one also signs (a second signature in "
                               "`webhook-signature`) during the overlap. The new secret is shown once.")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        body = self.body(RotateRequestSerializer)
        sub = services.subscription_rotate_secret(actor=self.principal, instance=self.get_object(),
                                                  **body.validated_data)
        return Response({"secret": sub.secret, "previous_secret_expires_at": sub.previous_secret_expires_at})

    @extend_schema(request=RecoverRequestSerializer, responses=RecoverResponseSerializer,
                   description="Replay everything since a time: events this webhook has no delivery for, and its "
                               "failed deliveries.")
    @action(detail=True, methods=["post"])
    def recover(self, request, *args, **kwargs):
        body = self.body(RecoverRequestSerializer)
        counts = services.subscription_recover(actor=self.principal, instance=self.get_object(),
                                               **body.validated_data)
        return Response(counts, status=202)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance._reveal_secret = True


class WebhookFilter(filters.FilterSet):
    class Meta:
        model = Subscription
        fields = ("enabled", "disabled_reason")


class TenantWebhookViewSet(WebhookActions, TenantScopedViewSet):
    """A tenant's webhooks: its events that match the selectors, signed (Standard Webhooks)."""

    queryset = Subscription.objects.filter(kind=Subscription.Kind.TENANT)
    serializer_class = WebhookSerializer
    filterset_class = WebhookFilter
    search_fields = ("url", "description")
    ordering_fields = ("id", "created_at", "url")
    ordering = ("id",)
    lookup_value_regex = r"\d+"
    create_service = services.subscription_create
    update_service = services.subscription_update
    delete_service = services.subscription_delete

    def get_queryset(self):
        tenant = getattr(self, "tenant", None)
        if tenant is None:  # schema generation
            return self.queryset.none()
        return super().get_queryset().filter(tenant_id=tenant.pk)

    @extend_schema(responses={201: WebhookWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class SystemWebhookPermission(IsAuthenticatedPrincipal):
    """System webhooks are for system admins and resellers (for their own tenants)."""

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if principal_of(request).scope not in (Scope.SYSTEM, Scope.RESELLER):
            raise exceptions.PermissionDenied("System webhooks are for system and reseller credentials.",
                                              code="permission_denied")
        return True


class SystemWebhookViewSet(WebhookActions, PlatformViewSet):
    """Cross-tenant lifecycle events (tenant, extension, DID, trunk ...) to one endpoint."""

    queryset = Subscription.objects.filter(kind=Subscription.Kind.SYSTEM).select_related("reseller")
    serializer_class = SystemWebhookSerializer
    permission_classes = [SystemWebhookPermission]
    filterset_class = WebhookFilter
    search_fields = ("url", "description")
    ordering_fields = ("id", "created_at", "url")
    ordering = ("id",)
    lookup_value_regex = r"\d+"
    update_service = services.subscription_update
    delete_service = services.subscription_delete

    scope_fields = {"reseller": "reseller"}

    def perform_create(self, serializer):
        serializer.instance = services.subscription_create(
            actor=self.principal, kind=Subscription.Kind.SYSTEM, **serializer.validated_data)
        serializer.instance._reveal_secret = True

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "reseller" in data and data["reseller"] is None and not self.principal.is_system:
            data.pop("reseller")
        serializer.instance = services.subscription_update(actor=self.principal, instance=serializer.instance,
                                                           **data)

    @extend_schema(responses={201: SystemWebhookWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


# --- delivery logs ---------------------------------------------------------------------------

class DeliveryFilter(filters.FilterSet):
    event_type = filters.CharFilter(method="filter_event_type",
                                    help_text="An exact type or a group such as `crm.*`.")
    since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = ("status", "is_test", "event_type")

    def filter_event_type(self, queryset, name, value):
        if value.endswith(".*"):
            return queryset.filter(event_type__startswith=value[:-1])
        return queryset.filter(event_type=value)


class DeliveryLog:
    """List and read one webhook's deliveries with their attempts; resend one."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ("id", "created_at", "next_attempt_at")
    ordering = ("-id",)
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "head", "options"]

    def subscriptions(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        subscription = get_object_or_404(self.subscriptions(), pk=self.kwargs["webhook_id"])
        return (Delivery.objects.filter(subscription=subscription)
                .select_related("event").prefetch_related("attempts"))

    @extend_schema(request=None, responses=DeliverySerializer,
                   description="Deliver again now, with a fresh retry schedule; earlier attempts stay logged.")
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        delivery = services.delivery_resend(actor=self.principal, delivery=self.get_object())
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=202)


class TenantDeliveryViewSet(DeliveryLog, TenantScopedViewSet):
    def subscriptions(self):
        return Subscription.objects.filter(kind=Subscription.Kind.TENANT, tenant_id=self.tenant.pk)


class SystemDeliveryViewSet(DeliveryLog, PlatformViewSet):
    permission_classes = [SystemWebhookPermission]

    def scope_queryset(self, queryset, principal):
        return queryset  # already limited through subscriptions()

    def subscriptions(self):
        return Subscription.objects.filter(kind=Subscription.Kind.SYSTEM).filter(
            self.principal.scope_q(**SystemWebhookViewSet.scope_fields))
