"""Filtering, search and ordering that refuse what they do not understand.

A typo in a filter name must not silently return every row: unknown query parameters answer
400 ``unknown_filter``, bad values 400 ``invalid_filter`` and unknown ordering fields 400
``invalid_ordering``.
"""
from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter, SearchFilter

from thirdlane.api.errors import DomainError

# Parameters every list understands besides its filters.
COMMON_PARAMS = {"limit", "offset", "ordering", "search", "format"}


def allowed_params(view, filterset) -> set[str]:
    allowed = set(COMMON_PARAMS) | set(getattr(view, "extra_query_params", ()))
    if filterset is not None:
        for name, field in filterset.form.fields.items():
            allowed.add(name)
            # range widgets read suffixed names: price_min/price_max, created_after/created_before
            allowed |= {f"{name}_{suffix}" for suffix in getattr(field.widget, "suffixes", ()) if suffix}
    return allowed


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) not in (None, "list") and not getattr(view, "filter_all_actions", False):
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        unknown = sorted(set(request.query_params) - allowed_params(view, filterset))
        if unknown:
            raise DomainError(f"Unknown query parameter(s): {', '.join(unknown)}.", code="unknown_filter",
                              errors={name: [{"code": "unknown_filter", "message": "Not a filter of this resource."}]
                                      for name in unknown})
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = {field: [{"code": "invalid_filter", "message": str(m)} for m in messages]
                      for field, messages in filterset.errors.items()}
            raise DomainError("Invalid filter value(s): " + ", ".join(sorted(errors)) + ".", code="invalid_filter",
                              errors=errors)
        return filterset.qs


class StrictSearchFilter(SearchFilter):
    pass


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [p.strip() for p in params.split(",") if p.strip()]
            valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            bad = [f for f in fields if f.lstrip("-") not in valid]
            if bad:
                raise DomainError(
                    f"Cannot order by {', '.join(bad)}. Allowed: {', '.join(sorted(valid))}.",
                    code="invalid_ordering", field="ordering")
            return fields
        return self.get_default_ordering(view)
