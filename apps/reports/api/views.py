"""Agent statistics and call counters: JSON pages or CSV for BI tools, one statement each."""
from __future__ import annotations

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers

from apps.reports import datasets, params as p
from apps.reports.api import serializers as s
from apps.tenants.models import Tenant
from thirdlane.api.errors import DomainError
from thirdlane.api.viewsets import PlatformViewSet, TenantScopedViewSet
from thirdlane.csvsafe import neutralise


class CsvRenderer(renderers.BaseRenderer):
    """``Accept: text/csv`` (or ``?format=csv``): the rows with a header line; text cells that a
    spreadsheet would run as formulas are neutralised. Problems stay problem+json."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        fields = getattr(view, "csv_fields", None) or (list(data[0]) if data else [])
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(fields)
        for row in data or ():
            writer.writerow([neutralise(datasets.as_text(row.get(name))) for name in fields])
        return buffer.getvalue().encode("utf-8")


WINDOW_RULES = (
    "Buckets are cut in `tz`: `hour` is a real hour (when clocks go back the repeated hour is two buckets, "
    "with their own offsets), `day` runs from local midnight to local midnight (23 or 25 hours on DST days), "
    "`week` from Monday 00:00 local. Events in [`start`, `end`) count; a bucket at an edge holds only the part "
    f"inside the range. At most {p.MAX_BUCKETS} buckets (400 `range_too_long` on `end`); `end` after `start` "
    "(400 `invalid_range` on `end`); an unknown zone is 400 `invalid_time_zone` on `tz`; any other parameter is "
    "400 `unknown_filter`. Without `start`/`end`: the last 24 hours, 7 days or 4 weeks up to the end of the "
    "current one.")
DATE_TIME = {"type": "string", "format": "date-time", "pattern": p.YEAR_PATTERN}


def window_parameters(tz_default: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("interval", str, enum=list(p.INTERVALS), default="day",
                         description="Bucket size: hour, day or week."),
        OpenApiParameter("start", DATE_TIME, description=(
            "ISO 8601 date-time, inclusive; without an offset it is read in `tz`. Years 1900-2999."),
            examples=[OpenApiExample("start", value="2025-03-03T00:00:00+01:00")]),
        OpenApiParameter("end", DATE_TIME, description="ISO 8601 date-time, exclusive; after `start`. Years 1900-2999.",
                         examples=[OpenApiExample("end", value="2025-03-10T00:00:00+01:00")]),
        OpenApiParameter("tz", {"type": "string", "enum": sorted(p.time_zones())}, description=(
            f"IANA time zone the buckets are cut in; default {tz_default}."),
            examples=[OpenApiExample("tz", value="Europe/Berlin")]),
    ]


class ReportViewSet:
    """What both statistics resources share: GET only, JSON pages or the whole result as CSV."""

    filter_backends: list = []
    http_method_names = ["get", "head", "options"]
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]
    csv_fields: tuple[str, ...] = ()

    @classmethod
    def offers(cls, action: str) -> bool:
        return action == "list"

    def initial(self, request, *args, **kwargs):
        # DRF reads an empty ?format= as "no format"; the document lists json and csv only.
        fmt = request.query_params.get("format")
        if fmt is not None and fmt not in ("json", "csv"):
            raise DomainError("format is json or csv.", code="invalid_filter", field="format")
        super().initial(request, *args, **kwargs)

    def respond(self, rows: list[dict] | None = None, *, every=None, page=None):
        """``rows``, or ``every()`` (all rows) and ``page(limit, offset)`` (``(rows, total)`` in one
        statement, so a page shapes only its own rows): CSV without limit/offset is every row, the
        rest is a page with X-Total-Count and Link."""
        from rest_framework.response import Response

        if getattr(self.request.accepted_renderer, "format", "json") == "csv" and not (
                {"limit", "offset"} & set(self.request.query_params)):
            response = Response(rows if rows is not None else every())
            response["Content-Disposition"] = f'attachment; filename="{self.basename}.csv"'
            return response
        if page is None:
            return self.paginated(rows if rows is not None else every())
        paginator = self.paginator
        paginator.request = self.request
        paginator.limit = paginator.get_limit(self.request)
        paginator.offset = paginator.get_offset(self.request)
        rows, paginator.count = page(paginator.limit, paginator.offset)
        return paginator.get_paginated_response(rows)


CSV_NOTE = "All rows (or a page with `limit`/`offset`), header first; date-times ISO 8601 with the zone's offset."


class AgentStatsViewSet(ReportViewSet, TenantScopedViewSet):
    """Agent statistics per agent and interval: queue calls offered, answered and missed, talk, hold
    and wrap-up time, average handle time, service level, logged-in time and pauses by reason."""

    serializer_class = s.AgentStatsRowSerializer
    csv_fields = datasets.AGENT_FIELDS

    def get_queryset(self):  # no model list: the rows come from one statement (apps.reports.sql)
        return []

    @extend_schema(
        description=(
            "Per agent (extension) and bucket. Queue calls count in the bucket they joined the queue; an offer is a "
            "queue call that rang the agent. Logged-in and pause time come from the agents' state history and are "
            "cut at bucket edges. `by_queue=true` adds a row per agent and queue and a row per queue (all its "
            "calls, abandoned ones included). " + WINDOW_RULES),
        parameters=[*window_parameters("the tenant's timezone"),
                    OpenApiParameter("queue", {"type": "string", "minLength": 1, "maxLength": 32},
                                     description="Only calls of this queue (its number)."),
                    OpenApiParameter("by_queue", OpenApiTypes.BOOL, default=False,
                                     description="Add per-queue rows (`agent_queue`, `queue`)."),
                    OpenApiParameter("service_level_seconds", {"type": "integer", "minimum": 1, "maximum": 3600},
                                     default=20, description="Answered within this many seconds of joining counts "
                                                             "for the service level.")],
        responses={(200, "application/json"): s.AgentStatsRowSerializer(many=True),
                   (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=CSV_NOTE, examples=[
                       OpenApiExample("csv", media_type="text/csv", value=(
                           ",".join(datasets.AGENT_FIELDS) + "\r\n"
                           "agent,2025-03-03T00:00:00+01:00,2025-03-04T00:00:00+01:00,1001,7,Ann,,3,1,2,1,1.0,100,"
                           "20,10,130,130.0,86400,1800,lunch=1800\r\n"))])},
        examples=[OpenApiExample("agent row", response_only=True, value=[{
            "level": "agent", "interval_start": "2025-03-03T00:00:00+01:00",
            "interval_end": "2025-03-04T00:00:00+01:00", "extension": "1001", "agent_id": 7, "agent_name": "Ann",
            "queue": None, "offered": 3, "answered": 1, "missed": 2, "answered_within_sl": 1, "service_level": 1.0,
            "talk_seconds": 100, "hold_seconds": 20, "wrapup_seconds": 10, "handle_seconds": 130,
            "average_handle_seconds": 130.0, "logged_in_seconds": 86400, "pause_seconds": 1800,
            "pause_by_reason": {"lunch": 1800}}])],
    )
    def list(self, request, tenant=None):
        q = request.query_params
        window = p.query_window(q, allowed={"queue", "by_queue", "service_level_seconds"},
                                default_tz=self.tenant.timezone or "UTC")
        options = {"queue": p.parse_text("queue", q.get("queue"), max_length=32),
                   "by_queue": p.parse_bool("by_queue", q.get("by_queue")),
                   "service_level_seconds": p.parse_int("service_level_seconds", q.get("service_level_seconds"),
                                                        default=20, lo=1, hi=3600)}
        return self.respond(
            every=lambda: datasets.agent_stats_rows(self.tenant, window=window, **options),
            page=lambda limit, offset: datasets.agent_stats_page(self.tenant, window=window, limit=limit,
                                                                 offset=offset, **options))


COUNTERS_DOC = (
    "Ended calls by the bucket they started in: a `total` row for every bucket (with the peak of concurrent "
    "calls), and rows by direction, disposition, both, trunk and DID where calls exist. ")


class CallCounterViewSet(ReportViewSet, TenantScopedViewSet):
    """Call counters per interval: calls by direction and disposition, concurrent-call peak, minutes
    per trunk and per DID."""

    serializer_class = s.CallCounterRowSerializer
    csv_fields = datasets.COUNTER_FIELDS

    def get_queryset(self):
        return []

    @extend_schema(description=COUNTERS_DOC + WINDOW_RULES,
                   parameters=window_parameters("the tenant's timezone"),
                   responses={(200, "application/json"): s.CallCounterRowSerializer(many=True),
                              (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=CSV_NOTE)},
                   examples=[OpenApiExample("total row", response_only=True, value=[{
                       "dimension": "total", "interval_start": "2025-03-03T00:00:00Z",
                       "interval_end": "2025-03-04T00:00:00Z", "direction": None, "disposition": None, "trunk": None,
                       "did": None, "calls": 4, "answered": 3, "billsec": 210, "minutes": 3.5,
                       "peak_concurrent": 3}])])
    def list(self, request, tenant=None):
        window = p.query_window(request.query_params, allowed=set(), default_tz=self.tenant.timezone or "UTC")
        return self.respond(datasets.call_counter_rows(self.tenant, window=window))


class PlatformCallCounterViewSet(ReportViewSet, PlatformViewSet):
    """Call counters of every tenant in the caller's scope (system and reseller credentials), one
    statement over their schemas."""

    queryset = Tenant.objects.all()
    scope_fields = {"tenant": ""}
    serializer_class = s.PlatformCallCounterRowSerializer
    csv_fields = datasets.PLATFORM_COUNTER_FIELDS

    @extend_schema(description=COUNTERS_DOC + "Per tenant (slug), tenants in slug order. " + WINDOW_RULES,
                   parameters=[*window_parameters("UTC"),
                               OpenApiParameter("tenant", {"type": "string", "maxLength": 40},
                                                description="Only this tenant (slug).")],
                   responses={(200, "application/json"): s.PlatformCallCounterRowSerializer(many=True),
                              (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=CSV_NOTE)})
    def list(self, request):
        q = request.query_params
        window = p.query_window(q, allowed={"tenant"}, default_tz="UTC")
        tenants = self.get_queryset()
        slug = p.parse_text("tenant", q.get("tenant"), max_length=40)
        if slug is not None:
            tenants = tenants.filter(slug=slug)
        return self.respond(datasets.platform_call_counter_rows(tenants.order_by("slug"), window=window))
