from django_filters import rest_framework as filters

from apps.billing.models import Cdr


class CdrFilter(filters.FilterSet):
    started_after = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte",
                                              help_text="ISO 8601 date-time, inclusive.")
    started_before = filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt",
                                               help_text="ISO 8601 date-time, exclusive.")
    min_billsec = filters.NumberFilter(field_name="billsec", lookup_expr="gte", min_value=0,
                                       help_text="Only CDRs billed at least this many seconds.")

    class Meta:
        model = Cdr
        fields = ("direction", "disposition", "did", "trunk", "extension", "account_code", "started_after",
                  "started_before", "min_billsec")
