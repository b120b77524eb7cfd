"""limit/offset pagination: the body is the JSON array; the total is in X-Total-Count and the
neighbouring pages in an RFC 8288 Link header."""
from __future__ import annotations

from django.conf import settings
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from thirdlane.api.errors import DomainError


def _non_negative_int(request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DomainError(f"{name} must be a non-negative integer.", code="invalid_pagination", field=name)
    if value < 0:
        raise DomainError(f"{name} must be a non-negative integer.", code="invalid_pagination", field=name)
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = settings.API_PAGE_MAX_LIMIT

    def get_limit(self, request):
        limit = _non_negative_int(request, self.limit_query_param, self.default_limit)
        if limit == 0 or limit > self.max_limit:
            raise DomainError(f"limit must be between 1 and {self.max_limit}.", code="invalid_pagination",
                              field="limit")
        return limit

    def get_offset(self, request):
        return _non_negative_int(request, self.offset_query_param, 0)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.count = self.get_count(queryset)
        if self.count == 0 or self.offset >= self.count:
            return []
        return list(queryset[self.offset:self.offset + self.limit])

    def _links(self) -> str:
        url = self.request.build_absolute_uri()
        links = []

        def link(offset: int, rel: str):
            u = replace_query_param(url, self.limit_query_param, self.limit)
            u = replace_query_param(u, self.offset_query_param, offset) if offset else remove_query_param(
                u, self.offset_query_param)
            links.append(f'<{u}>; rel="{rel}"')

        link(0, "first")
        if self.offset > 0:
            link(max(self.offset - self.limit, 0), "prev")
        if self.offset + self.limit < self.count:
            link(self.offset + self.limit, "next")
        last = max(((self.count - 1) // self.limit) * self.limit, 0)
        link(last, "last")
        return ", ".join(links)

    def get_paginated_response(self, data):
        return Response(data, headers={"X-Total-Count": str(self.count), "Link": self._links()})

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "limit", "required": False, "in": "query",
             "description": f"Number of results (1-{self.max_limit}, default {self.default_limit}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit}},
            {"name": "offset", "required": False, "in": "query",
             "description": "Index of the first result.", "schema": {"type": "integer", "minimum": 0}},
        ]


class PageAlreadyCounted:
    """A page and its total computed by one statement (over many schemas, say), shaped for the
    pagination above, which asks for ``count()`` and then slices ``[offset:offset + limit]``:
    that slice is the page."""

    def __init__(self, entries, total: int):
        self.entries, self.total = entries, total

    def count(self) -> int:
        return self.total

    def __getitem__(self, window: slice):
        return self.entries
