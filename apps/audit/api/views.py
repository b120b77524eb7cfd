from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.audit.models import AuditEntry
from thirdlane.api.viewsets import ReadOnlyPlatformViewSet


@extend_schema_field({"type": ["object", "null"], "additionalProperties": True})
class _Snapshot(serializers.JSONField):
    """The object's fields before/after the change; null before a create and after a delete."""


class AuditEntrySerializer(serializers.ModelSerializer):
    tenant = serializers.CharField(source="tenant_slug", read_only=True)
    before = _Snapshot(read_only=True)
    after = _Snapshot(read_only=True)

    class Meta:
        model = AuditEntry
        fields = ("id", "occurred_at", "actor_type", "actor_id", "actor_label", "source", "tenant", "action", "verb",
                  "object_type", "object_id", "object_repr", "before", "after", "request_id")


class AuditFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant_slug")
    since = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ("action", "object_type", "object_id", "actor_type", "actor_label", "request_id", "source")


class AuditLogViewSet(ReadOnlyPlatformViewSet):
    """Who changed what and when, within the caller's scope."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter
    search_fields = ("object_repr", "actor_label")
    ordering_fields = ("occurred_at", "id")
    ordering = ("-occurred_at", "-id")

    scope_fields = {"tenant": "tenant", "reseller": "reseller"}
