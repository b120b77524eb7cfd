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


_class_params: dict[type, frozenset[str]] = {}


def class_params(filterset_class) -> frozenset[str]:
    """The query parameters a FilterSet class declares, computed once per class (building the
    form, as ``allowed_params`` does, costs about a millisecond per request). Filters a FilterSet
    adds per request (the CRM's cf_<name>) are not here: those requests take the form path."""
    cached = _class_params.get(filterset_class)
    if cached is None:
        names = set()
        for name, f in filterset_class.base_filters.items():
            names.add(name)
            widget = getattr(f.field_class, "widget", None)
            names |= {f"{name}_{suffix}" for suffix in getattr(widget, "suffixes", ()) if suffix}
        cached = _class_params[filterset_class] = frozenset(names)
    return cached


def reject_unknown_params(names, allowed=()) -> None:
    """400 ``unknown_filter`` naming each query parameter that is not ``allowed``: a misspelt
    filter must never silently return everything."""
    unknown = sorted(set(names) - set(allowed) - {"format"})
    if unknown:
        raise DomainError(f"Unknown query parameter(s): {', '.join(unknown)}.", code="unknown_filter",
                          errors={name: [{"code": "unknown_filter", "message": "Not a parameter of this resource."}]
                                  for name in unknown})


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) not in (None, "list") and not getattr(view, "filter_all_actions", False):
            return queryset
        given = set(request.query_params) - COMMON_PARAMS - set(getattr(view, "extra_query_params", ()))
        if not given:
            return queryset  # nothing to filter by: no filterset, no form
        filterset_class = self.get_filterset_class(view, queryset)
        filterset = None
        unknown = given - class_params(filterset_class) if filterset_class else given
        if unknown and filterset_class is not None:
            filterset = self.get_filterset(request, queryset, view)
            unknown = given - allowed_params(view, filterset)
        reject_unknown_params(unknown)
        filterset = filterset or self.get_filterset(request, queryset, view)
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
