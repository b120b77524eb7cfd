from django_filters import rest_framework as filters

from apps.sms.models import SmsMessage, SmsOptOut


class SmsMessageFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = SmsMessage
        fields = ("direction", "status", "did", "remote", "contact_id", "created_after", "created_before")


class SmsOptOutFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = SmsOptOut
        fields = ("did", "remote", "keyword", "created_after", "created_before")
