"""CDRs of every tenant in the caller's scope (system and reseller credentials): JSON pages, the
incremental cursor over all of them, and CSV / JSON lines streamed by COPY, each one statement
over the tenants' schemas."""
from __future__ import annotations

from django import forms
from django.http import StreamingHttpResponse
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.response import Response

from apps.accounts.models import Scope
from apps.billing import cursor as cursors
from apps.billing import streaming
from apps.billing.api.serializers import CdrSerializer
from apps.billing.api.views import CURSOR_DOC, NEXT_CURSOR, CsvRenderer, JsonLinesRenderer
from apps.billing.models import Cdr
from apps.tenants.crossschema import run_over_schemas, table
from apps.tenants.models import Tenant
from thirdlane.api.errors import DomainError
from thirdlane.api.filters import QueryParamsForm
from thirdlane.api.pagination import PageAlreadyCounted
from thirdlane.api.viewsets import ApiViewSet


class PlatformCdrSerializer(CdrSerializer):
    tenant = serializers.CharField(help_text="The tenant's slug.")

    class Meta(CdrSerializer.Meta):
        fields = ("tenant", *CdrSerializer.Meta.fields)
        read_only_fields = fields


class PlatformCdrParams(QueryParamsForm):
    tenant = forms.CharField(required=False, max_length=40)
    started_after = IsoDateTimeField(required=False)
    started_before = IsoDateTimeField(required=False)
    direction = forms.ChoiceField(required=False, choices=[("", "")] + Cdr.Direction.choices)
    disposition = forms.ChoiceField(required=False, choices=[("", "")] + Cdr.Disposition.choices)
    after = forms.CharField(required=False, max_length=20000)


_COLUMNS = [name for name, _ in streaming.COLUMNS]


class PlatformCdrViewSet(ApiViewSet):
    """CDRs of every tenant in the caller's scope (system and reseller credentials), by tenant and
    id. Pull incrementally with `after` (one cursor over all the tenants), or stream CSV / JSON lines."""

    serializer_class = PlatformCdrSerializer
    filter_backends: list = []
    renderer_classes = [renderers.JSONRenderer, CsvRenderer, JsonLinesRenderer]

    def _owner(self) -> str:
        principal = self.principal
        if principal.scope == Scope.SYSTEM:
            return "system"
        if principal.scope == Scope.RESELLER:
            return f"reseller:{principal.reseller_id}"
        raise exceptions.PermissionDenied("Platform CDRs are for system and reseller credentials; a tenant's are "
                                          "at /api/cdrs/<tenant>/.", code="permission_denied")

    @extend_schema(operation_id="platform_cdrs_list", parameters=[
        OpenApiParameter("tenant", str, description="Only this tenant (slug)."),
        OpenApiParameter("started_after", OpenApiTypes.DATETIME, description="ISO 8601 date-time, inclusive."),
        OpenApiParameter("started_before", OpenApiTypes.DATETIME, description="ISO 8601 date-time, exclusive."),
        OpenApiParameter("direction", str, enum=Cdr.Direction.values),
        OpenApiParameter("disposition", str, enum=Cdr.Disposition.values),
        OpenApiParameter("after", str, description=CURSOR_DOC), NEXT_CURSOR,
    ], responses={(200, "application/json"): PlatformCdrSerializer(many=True),
                  (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a `tenant` column."),
                  (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR)})
    def list(self, request):
        owner = self._owner()
        params = PlatformCdrParams.parse(request.query_params)
        tenants = self.principal.visible_tenants(Tenant.objects.all()).order_by("slug")
        if "tenant" in params:
            tenants = tenants.filter(slug=params["tenant"])
        tenants = list(tenants)
        positions = cursors.read_map(params["after"], owner) if "after" in params else {}
        where, values = [], []
        for column, op, key in (("started_at", ">=", "started_after"), ("started_at", "<", "started_before"),
                                ("direction", "=", "direction"), ("disposition", "=", "disposition")):
            if key in params:
                where.append(f"{column} {op} %s")
                values.append(params[key])
        fmt = getattr(request.accepted_renderer, "format", "json")
        limit = self.paginator.get_limit(request) if (fmt == "json" or "limit" in request.query_params) else None
        offset = self.paginator.get_offset(request)
        if offset and ("after" in params or fmt != "json"):
            raise DomainError("Use offset or after, not both; a streamed file has no offset.",
                              code="invalid_pagination", field="offset")
        highs = self._highs(tenants, positions)

        def branch(tenant, select: str) -> tuple[str, list]:
            low, high = positions.get(tenant.pk, 0), highs.get(tenant.pk, 0)
            conditions = ["id > %s", "id <= %s", *where]
            return (f"(SELECT {select} FROM {table(Cdr, tenant.schema_name)} WHERE {' AND '.join(conditions)} "
                    f"ORDER BY id)", [tenant.slug, low, high, *values])

        if fmt in ("csv", "jsonl"):
            select = streaming.select_list(tenant_column="%s::text") if fmt == "csv" else \
                streaming.json_object(tenant_column="%s::text")
            parts, args = zip(*(branch(t, select) for t in tenants)) if tenants else ((), ())
            body = " UNION ALL ".join(parts) if parts else "SELECT 1 WHERE false"
            if limit is not None:
                body = f"SELECT * FROM ({body}) cdrs LIMIT {int(limit)}"
            statement = streaming.copy_statement(body, fmt)
            response = StreamingHttpResponse(streaming.stream(statement, [a for group in args for a in group]),
                                             content_type="text/csv; charset=utf-8" if fmt == "csv"
                                             else "application/x-ndjson")
            # With a limit the file may stop before the highs: then the cursor is where it was.
            response["X-Next-Cursor"] = cursors.make_map(owner, highs if limit is None else positions)
            return response
        columns = ", ".join(_COLUMNS)
        select = f"%s::text AS tenant, {columns}"
        parts, args = zip(*(branch(t, select) for t in tenants)) if tenants else ((), ())

        def build_rows(schemas):
            flat = [a for group in args for a in group]
            return (f"SELECT * FROM ({' UNION ALL '.join(parts)}) cdrs ORDER BY tenant, id LIMIT %s OFFSET %s",
                    [*flat, limit, offset])

        def build_count(schemas):
            flat = [a for group in args for a in group]
            return f"SELECT count(*) FROM ({' UNION ALL '.join(parts)}) c", flat

        if not tenants:
            rows, total = [], 0
        else:
            tables = [Cdr._meta.db_table]
            schemas = [t.schema_name for t in tenants]
            rows = run_over_schemas(build_rows, schemas, tables)
            total = int(run_over_schemas(build_count, schemas, tables)[0][0])
        items = [dict(zip(("tenant", *_COLUMNS), row)) for row in rows]
        response = self.paginated(PageAlreadyCounted(items, total), PlatformCdrSerializer)
        moved = dict(positions)
        by_slug = {t.slug: t.pk for t in tenants}
        for item in items:
            moved[by_slug[item["tenant"]]] = item["id"]
        if len(items) < (limit or 0) and offset == 0:
            moved = {**moved, **highs}  # the whole selection fitted: the cursor may jump to the highs
        response["X-Next-Cursor"] = cursors.make_map(owner, moved)
        return response

    @staticmethod
    def _highs(tenants, positions) -> dict[int, int]:
        """Each tenant's highest CDR id now, fixed before reading (one statement)."""
        if not tenants:
            return {}
        by_schema = {t.schema_name: t for t in tenants}

        def build(schemas):
            return (" UNION ALL ".join(f"SELECT %s, (SELECT max(id) FROM {table(Cdr, s)})" for s in schemas),
                    list(schemas))

        found = {by_schema[schema].pk: high or 0 for schema, high in
                 run_over_schemas(build, list(by_schema), [Cdr._meta.db_table])}
        return {t.pk: max(found.get(t.pk, 0), positions.get(t.pk, 0)) for t in tenants}
