"""The event stream's handshake: who may open which stream, from where, with which filter.

Everything a stream needs is decided here, by the same DRF machinery as every other endpoint
(authentication, the one scope rule, the rate limit, problem+json). The stream process runs
this view in a thread and, when it answers ``StreamAccepted``, streams from the plan; the web
process runs it too and answers 421 ``event_stream_elsewhere`` once the request is valid, so a
client that reaches the wrong process learns where to go instead of holding a sync worker.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers

from apps.accounts.models import Scope
from apps.webhooks.matching import unknown_selectors
from thirdlane.api.errors import DomainError, Invalid
from thirdlane.api.viewsets import ApiViewSet, TenantScopedViewSet

ALL_TENANTS = "_all"
# ``format`` is DRF's renderer override (json or sse), which the OpenAPI document lists too.
QUERY_PARAMS = {"types", "last_event_id", "format"}


@dataclass(frozen=True)
class StreamPlan:
    tenant_ids: frozenset[int] | None  # None: every tenant of ``reseller_id``, or all for the system
    reseller_id: int | None
    selectors: tuple[str, ...]
    last_event_id: int | None
    request_id: str

    def outbox_filters(self) -> dict:
        """The same rows as ``Subscriber.wants`` before its type check, as an ORM filter."""
        if self.tenant_ids is not None:
            return {"tenant_id__in": sorted(self.tenant_ids)}
        if self.reseller_id is not None:
            return {"reseller_id": self.reseller_id}
        return {}


class StreamAccepted(HttpResponse):
    """Only the stream process sees this: it replaces the response with the stream."""

    def __init__(self, plan: StreamPlan):
        super().__init__(status=200)
        self.plan = plan


class EventStreamRenderer(renderers.JSONRenderer):
    """So that ``Accept: text/event-stream`` (what EventSource sends) is not a 406. The only
    bodies DRF renders here are problems (the stream itself is written by the stream process),
    and those stay JSON with their problem+json content type."""

    media_type = "text/event-stream"
    format = "sse"


class EventStreamViewSet(ApiViewSet):
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]
    not_found_code = "tenant_not_found"

    @extend_schema(
        operation_id="events_stream",
        summary="Stream a tenant's events (server-sent events)",
        description=(
            "Server-sent events: one `id:` (the outbox id), `event:` (the type) and `data:` (the "
            "webhook message, exactly as webhooks deliver it) per event, a comment line every "
            "15 s, and `retry:`. `<tenant>` is a tenant slug, or `_all` for every tenant in the "
            "caller's scope (system, reseller and organization credentials). Resume with the "
            "`Last-Event-ID` header (or `last_event_id`): events after it are replayed from the "
            "outbox in id order, then the stream continues live, with no gap and no duplicate. "
            "Served by the stream process (`uvicorn thirdlane.asgi`); the web process answers a "
            "valid request with 421 `event_stream_elsewhere` and the stream's address in "
            "`stream_url`. See docs/api.md, \"Real-time event stream\"."
        ),
        parameters=[
            OpenApiParameter("types", OpenApiTypes.STR, description=(
                "Comma-separated selectors, as for webhooks: exact types (`crm.contact.created`), "
                "groups (`crm.*`, `config.extension.*`) or `*` (default).")),
            OpenApiParameter("last_event_id", OpenApiTypes.INT, description=(
                "Resume after this event id (the `Last-Event-ID` header wins when both are sent).")),
            OpenApiParameter("Last-Event-ID", OpenApiTypes.INT, location=OpenApiParameter.HEADER,
                             description="Resume after this event id (sent by EventSource on reconnect)."),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="The event stream."),
            421: OpenApiResponse(description=(
                "event_stream_elsewhere: this process does not serve streams; `stream_url` names "
                "the one that does.")),
        },
    )
    def stream(self, request, tenant: str):
        principal = self.principal
        unknown = sorted(set(request.query_params) - QUERY_PARAMS)
        if unknown:
            raise DomainError(f"Unknown query parameters: {', '.join(unknown)}.", code="unknown_filter",
                              errors={k: [{"code": "unknown_filter", "message": "Not a parameter of the stream."}]
                                      for k in unknown})
        if tenant == ALL_TENANTS:
            if principal.scope == Scope.TENANT:
                raise exceptions.PermissionDenied("A tenant credential streams its own tenant: "
                                                  "/api/events/<tenant>/stream.")
            tenant_ids, reseller_id = None, None
            if principal.scope == Scope.RESELLER:
                reseller_id = principal.reseller_id
            elif principal.scope == Scope.ORGANIZATION:
                # Member tenants at connect time; a tenant that joins later needs a reconnect.
                tenant_ids = frozenset(principal.visible_tenants().values_list("pk", flat=True))
        else:
            # The one tenant rule of the API (404 tenant_not_found outside the caller's scope).
            found = TenantScopedViewSet.resolve_tenant(self, tenant)
            tenant_ids, reseller_id = frozenset({found.pk}), None
        plan = StreamPlan(tenant_ids=tenant_ids, reseller_id=reseller_id, selectors=self._selectors(request),
                          last_event_id=self._last_event_id(request), request_id=request._request.request_id)
        if getattr(request._request, "event_stream_server", False):
            return StreamAccepted(plan)
        stream_url = settings.EVENT_STREAM_URL.rstrip("/")
        raise DomainError(
            "Event streams are served by the stream process (uvicorn thirdlane.asgi), not by this web "
            "process. Connect to stream_url, or route /api/events/*/stream to the stream process in "
            "the reverse proxy.", code="event_stream_elsewhere",
            extra={"stream_url": f"{stream_url}{request.get_full_path()}" if stream_url else None})

    @staticmethod
    def _selectors(request) -> tuple[str, ...]:
        raw = request.query_params.get("types", "")
        selectors = [s.strip() for s in raw.split(",") if s.strip()] or ["*"]
        bad = unknown_selectors(selectors)
        if bad:
            raise DomainError(f"No event type matches {', '.join(bad)}.", code="unknown_event_type",
                              field="types")
        return tuple(selectors)

    @staticmethod
    def _last_event_id(request) -> int | None:
        raw = request.META.get("HTTP_LAST_EVENT_ID") or request.query_params.get("last_event_id")
        if raw in (None, ""):
            return None
        raw = raw.strip()
        if not raw.isdigit() or len(raw) > 18:
            raise Invalid("Last-Event-ID must be an event id (a non-negative integer) from this stream.",
                          field="last_event_id")
        return int(raw)
