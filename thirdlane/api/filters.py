"""Filtering, search and ordering that refuse what they do not understand.

A typo in a filter name must not silently return every row: unknown query parameters answer
400 ``unknown_filter``, bad values 400 ``invalid_filter`` and unknown ordering fields 400
``invalid_ordering``.
"""
from __future__ import annotations

import re

from django import forms
from django_filters import filters as django_filters
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
        errors = strict_value_errors(filterset, request.query_params)
        if not errors and not filterset.is_valid():
            errors = {field: [{"code": _filter_error_code(filterset.form.fields.get(field), e), "message": m}
                              for e in field_errors for m in e.messages]
                      for field, field_errors in filterset.form.errors.as_data().items()}
        if not errors:
            errors = utc_datetimes(filterset.form.cleaned_data)
        if errors:
            raise DomainError("Invalid filter value(s): " + ", ".join(sorted(errors)) + ".", code="invalid_filter",
                              errors=errors)
        return filterset.qs


def utc_datetimes(cleaned: dict) -> dict:
    """Date-times are compared in UTC: each is converted here (PostgreSQL refuses UTC offsets
    beyond 15:59 that RFC 3339 allows), and one that has no UTC equivalent (year 1 with a positive
    offset) is a 400 rather than a server error in the query."""
    import datetime as dt

    errors = {}
    for name, value in list(cleaned.items()):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            try:
                cleaned[name] = value.astimezone(dt.timezone.utc)
            except (OverflowError, ValueError):
                errors[name] = [{"code": "invalid_filter", "message": "The date-time is out of range."}]
    return errors


def _filter_error_code(field, error) -> str:
    # An id filter naming no object says so (the id is well formed; the object does not exist).
    if error.code == "invalid_choice" and isinstance(field, forms.ModelChoiceField):
        return "does_not_exist"
    return "invalid_filter"


def strict_value_errors(filterset, query_params) -> dict:
    """What django-filter lets through and the document forbids: a boolean filter is ``true`` or
    ``false`` (django-filter reads ``null``, ``None`` or an empty value as "no filter"), and a
    typed filter (a number, a date, a choice, an id) is not empty (django-filter ignores an empty
    one). An empty text filter is a valid string and filters nothing."""
    errors = {}
    for name, value in query_params.items():
        flt = filterset.filters.get(name)
        if flt is None:
            base, _, suffix = name.rpartition("_")
            flt = filterset.filters.get(base) if suffix in ("after", "before", "min", "max") else None
            if flt is not None and _takes_date_times(flt) and not _offset_in_range(value):
                errors[name] = [{"code": "invalid_filter", "message": OFFSET_MESSAGE}]
            continue
        if _takes_date_times(flt) and not _offset_in_range(value):
            errors[name] = [{"code": "invalid_filter", "message": OFFSET_MESSAGE}]
            continue
        if isinstance(flt, django_filters.BooleanFilter) and value not in ("true", "false"):
            errors[name] = [{"code": "invalid_filter", "message": "Give true or false."}]
        elif value == "" and not isinstance(flt, django_filters.CharFilter):
            errors[name] = [{"code": "invalid_filter", "message": "An empty value is not a valid filter."}]
    return errors


OFFSET_MESSAGE = "The UTC offset is out of range: RFC 3339 offsets run from -23:59 to +23:59."
_OFFSET = re.compile(r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?([+-])(\d{2}):?(\d{2})$")


def _takes_date_times(flt) -> bool:
    field_class = getattr(flt, "field_class", None)
    return isinstance(field_class, type) and (issubclass(field_class, forms.DateTimeField) or
                                              issubclass(field_class, forms.SplitDateTimeField) or
                                              "DateTime" in field_class.__name__)


def _offset_in_range(value: str) -> bool:
    """Python and Django read ``+05:60`` as six hours and ``+24:00`` as an error of their own;
    RFC 3339 allows hours 00-23 and minutes 00-59, and that is what the filters take."""
    match = _OFFSET.search(value.strip())
    return match is None or (int(match.group(2)) <= 23 and int(match.group(3)) <= 59)


class StrictSearchFilter(SearchFilter):
    pass


def ordering_pattern(fields) -> str:
    """The ``ordering`` values a list accepts: comma-separated field names, each with an optional
    ``-``, or nothing (the default order). The document carries the same pattern."""
    term = "-?(?:" + "|".join(re.escape(f) for f in sorted(fields)) + ")"
    return f"^(?:{term}(?:,{term})*)?$"


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            if not re.fullmatch(ordering_pattern(valid), params):
                bad = [f for f in params.split(",") if f.lstrip("-") not in valid] or [params]
                raise DomainError(
                    f"Cannot order by {', '.join(bad)}. Allowed: {', '.join(sorted(valid))}, "
                    f"comma-separated, each with an optional '-'.",
                    code="invalid_ordering", field="ordering")
            return params.split(",")
        return self.get_default_ordering(view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if fields and fields != "__all__":
            for parameter in parameters:
                parameter["schema"] = {"type": "string", "pattern": ordering_pattern(fields)}
                parameter["description"] = (f"Order by {', '.join(sorted(fields))}: comma-separated, "
                                            f"'-' for descending.")
        return parameters


class QueryParamsForm(forms.Form):
    """Query parameters of a view that reads many schemas (no FilterSet): declare the fields,
    call ``parse``. Unknown parameters are 400 ``unknown_filter``; bad values and date-times that
    PostgreSQL could not take are 400 ``invalid_filter`` naming each parameter."""

    extra_params: frozenset[str] = frozenset({"limit", "offset"})

    @classmethod
    def parse(cls, query_params) -> dict:
        """The cleaned parameters that were given."""
        reject_unknown_params(query_params, {*cls.base_fields, *cls.extra_params})
        form = cls(query_params)
        errors = {} if form.is_valid() else {
            name: [{"code": "invalid_filter", "message": m} for m in messages] for name, messages in form.errors.items()}
        errors = errors or utc_datetimes(form.cleaned_data)
        if errors:
            raise DomainError("Invalid filter value(s): " + ", ".join(sorted(errors)) + ".", code="invalid_filter",
                              errors=errors)
        return {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}

