from django_filters import rest_framework as filters

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
