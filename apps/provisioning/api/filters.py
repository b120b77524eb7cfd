"""List filters of phones."""
from django_filters import rest_framework as filters

from apps.provisioning import catalog
from apps.provisioning.models import Phone


class PhoneFilter(filters.FilterSet):
    vendor = filters.ChoiceFilter(choices=catalog.vendor_choices())
    model = filters.ChoiceFilter(choices=catalog.model_choices())
    extension = filters.NumberFilter(field_name="lines__extension_id", distinct=True,
                                     help_text="Phones with a line on this extension (id).")
    mac = filters.CharFilter(method="filter_mac", help_text="In any usual spelling (00:15:65:..., 0015.65..).")

    class Meta:
        model = Phone
        fields = ("vendor", "model", "enabled", "extension", "mac")

    def filter_mac(self, queryset, name, value):
        from apps.provisioning.macs import normalize

        return queryset.filter(mac=normalize(value) or value.strip().lower())
