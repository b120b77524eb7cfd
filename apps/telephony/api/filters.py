"""List filters of the telephony resources."""
from django_filters import rest_framework as filters

from apps.telephony.destinations import DestType
from apps.telephony.models import Agent, Did, Extension, Ivr, OutboundRoute, Queue, Schedule, TimeCondition, Trunk


class ExtensionFilter(filters.FilterSet):
    location = filters.CharFilter(field_name="location__code")
    number_min = filters.CharFilter(field_name="number", lookup_expr="gte")
    number_max = filters.CharFilter(field_name="number", lookup_expr="lte")
    codec = filters.CharFilter(field_name="codecs", lookup_expr="contains", method="filter_codec")

    class Meta:
        model = Extension
        fields = ("number", "enabled", "dnd", "voicemail_enabled", "location", "recording_inbound",
                  "recording_outbound")

    def filter_codec(self, queryset, name, value):
        return queryset.filter(codecs__contains=[value])


class DidFilter(filters.FilterSet):
    destination_type = filters.ChoiceFilter(field_name="dest_type", choices=DestType.choices)
    destination_id = filters.NumberFilter(field_name="dest_id")
    number_prefix = filters.CharFilter(field_name="number", lookup_expr="startswith")

    class Meta:
        model = Did
        fields = ("number", "enabled", "destination_type", "destination_id")


class TrunkFilter(filters.FilterSet):
    class Meta:
        model = Trunk
        fields = ("name", "auth_type", "transport", "enabled")


class OutboundRouteFilter(filters.FilterSet):
    trunk = filters.NumberFilter(field_name="route_trunks__trunk_id", distinct=True)

    class Meta:
        model = OutboundRoute
        fields = ("name", "is_emergency", "enabled", "trunk")


class QueueFilter(filters.FilterSet):
    member_extension = filters.NumberFilter(field_name="members__extension_id", distinct=True)
    member_agent = filters.NumberFilter(field_name="members__agent_id", distinct=True)

    class Meta:
        model = Queue
        fields = ("number", "strategy", "member_extension", "member_agent")


class AgentFilter(filters.FilterSet):
    class Meta:
        model = Agent
        fields = ("state", "extension", "login_code")


class IvrFilter(filters.FilterSet):
    class Meta:
        model = Ivr
        fields = ("number", "direct_dial")


class ScheduleFilter(filters.FilterSet):
    class Meta:
        model = Schedule
        fields = ("name", "timezone")


class TimeConditionFilter(filters.FilterSet):
    class Meta:
        model = TimeCondition
        fields = ("schedule", "override")
