"""CDRs of a tenant: JSON pages, an incremental cursor, and CSV / JSON lines streamed by COPY."""
from __future__ import annotations

from django.db.models import Max
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.response import Response

from apps.billing import cursor as cursors
from apps.billing import streaming
from apps.billing.api import serializers as s
from apps.billing.api.filters import CdrFilter
from apps.billing.models import Cdr
from thirdlane.api.errors import DomainError
from thirdlane.api.viewsets import TenantScopedViewSet


class CsvRenderer(renderers.JSONRenderer):
    """``Accept: text/csv`` (or ``?format=csv``): the rows are streamed by the view; the only body
    DRF renders here is a problem, which stays JSON with its problem+json content type."""

    media_type = "text/csv"
    format = "csv"


class JsonLinesRenderer(renderers.JSONRenderer):
    """``Accept: application/x-ndjson`` (or ``?format=jsonl``), as ``CsvRenderer``."""

    media_type = "application/x-ndjson"
    format = "jsonl"


CURSOR_DOC = ("Incremental pulls: the `X-Next-Cursor` of the previous pull. Only CDRs written after it are "
              "returned, oldest first; CDR ids become visible in increasing order, so a pull never skips or "
              "repeats a row while new calls arrive. Opaque and signed; another tenant's cursor is a 400 "
              "`invalid_cursor`.")
NEXT_CURSOR = OpenApiParameter("X-Next-Cursor", OpenApiTypes.STR, location=OpenApiParameter.HEADER, response=[200],
                               description="Send it as `after` to get the CDRs written after these.")


class CdrViewSet(TenantScopedViewSet):
    """CDRs for billing: one row per call leg that crossed a trunk (inbound on a DID, each outbound
    leg), plus one per internal or inter-site call; written when the call ends and never changed.
    Oldest first. JSON pages (limit/offset, or the `after` cursor), or the whole selection streamed as
    CSV (`Accept: text/csv`) or JSON lines (`Accept: application/x-ndjson`)."""

    queryset = Cdr.objects.all()
    serializer_class = s.CdrSerializer
    filterset_class = CdrFilter
    ordering = ("id",)
    ordering_fields = ("id",)
    http_method_names = ["get", "head", "options"]
    renderer_classes = [renderers.JSONRenderer, CsvRenderer, JsonLinesRenderer]
    extra_query_params = ("after",)

    @extend_schema(
        parameters=[OpenApiParameter("after", OpenApiTypes.STR, description=CURSOR_DOC), NEXT_CURSOR],
        responses={
            (200, "application/json"): s.CdrSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=(
                "The selection as CSV (header row; times in UTC, ISO 8601), streamed; `limit` caps the rows, "
                "no `X-Total-Count`."), examples=[OpenApiExample("csv", value=(
                    "id,started_at,answered_at,ended_at,duration,billsec,direction,source,destination,did,trunk,"
                    "extension,disposition,hangup_cause,hangup_cause_text,account_code,linkedid\n"
                    "41,2026-11-27T10:00:00Z,2026-11-27T10:00:04Z,2026-11-27T10:02:04Z,124,120,inbound,"
                    "+14155550123,+14155550100,+14155550100,carrier-a,1001,answered,16,Normal Clearing,"
                    "ACME-001,1795750932.48\n"), media_type="text/csv")]),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description=(
                "The selection as JSON lines (one CDR object per line), streamed.")),
        },
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset()).order_by("id")
        after = request.query_params.get("after")
        if after is not None:
            queryset = queryset.filter(id__gt=cursors.read(after, self.tenant.pk))
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt in ("csv", "jsonl"):
            return self._stream(queryset, fmt, after is not None)
        if after is None:
            response = super().list(request, *args, **kwargs)
            rows = response.data
        else:
            limit = self.paginator.get_limit(request)
            if "offset" in request.query_params:
                raise DomainError("Use offset or after, not both.", code="invalid_pagination", field="offset")
            rows = s.CdrSerializer(list(queryset[:limit]), many=True).data
            response = Response(rows)
        last = rows[-1]["id"] if rows else (cursors.read(after, self.tenant.pk) if after else 0)
        response["X-Next-Cursor"] = cursors.make(self.tenant.pk, last)
        return response

    def _stream(self, queryset, fmt: str, by_cursor: bool) -> StreamingHttpResponse:
        limit = None
        if "limit" in self.request.query_params:
            limit = self.paginator.get_limit(self.request)
        if "offset" in self.request.query_params:
            raise DomainError("A streamed file has no offset: use after (the cursor) or a time range.",
                              code="invalid_pagination", field="offset")
        # The upper bound, fixed before the first byte: the X-Next-Cursor says where this file ends.
        if limit is None:
            high = queryset.aggregate(high=Max("id"))["high"]
        else:
            high = queryset.values_list("id", flat=True)[limit - 1:limit].first() or \
                queryset.aggregate(high=Max("id"))["high"]
        start = cursors.read(self.request.query_params["after"], self.tenant.pk) if by_cursor else 0
        bounded = queryset.filter(id__lte=high if high is not None else 0)
        sql, params = bounded.values_list("id").query.sql_with_params()
        where = sql[sql.index(" FROM "):]
        if fmt == "csv":
            select = f"SELECT {streaming.select_list()} {where}"
        else:
            select = f"SELECT {streaming.json_object()} {where}"
        statement = streaming.copy_statement(select, fmt)
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
        response = StreamingHttpResponse(streaming.stream(statement, list(params), tenant=self.tenant),
                                         content_type=content_type)
        response["X-Next-Cursor"] = cursors.make(self.tenant.pk, high if high is not None else start)
        if fmt == "csv":
            response["Content-Disposition"] = f'attachment; filename="cdrs-{self.tenant.slug}.csv"'
        return response
