from django import forms
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

from thirdlane.api.filters import QueryParamsForm

from apps.calls.models import Call


class CallFilter(filters.FilterSet):
    started_after = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    extension = filters.CharFilter(method="filter_extension", help_text="Calls this extension took part in.")
    number = filters.CharFilter(method="filter_number", help_text="Caller or callee number (exact).")

    class Meta:
        model = Call
        fields = ("direction", "disposition", "status", "did", "queue", "agent", "trunk", "started_after",
                  "started_before", "extension", "number")

    def filter_extension(self, queryset, name, value):
        return queryset.filter(extensions__contains=[value])

    def filter_number(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(caller_number=value) | Q(callee_number=value))


class RollupParams(QueryParamsForm):
    """The platform roll-up's query parameters (it reads many schemas, so no FilterSet)."""

    tenant = forms.CharField(required=False, max_length=40)
    started_after = IsoDateTimeField(required=False)
    started_before = IsoDateTimeField(required=False)
    direction = forms.ChoiceField(required=False, choices=[("", "")] + Call.Direction.choices)
    disposition = forms.ChoiceField(required=False, choices=[("", "")] + Call.Disposition.choices)
