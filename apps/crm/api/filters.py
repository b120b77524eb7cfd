"""Filters. ``cf_<name>`` filters are added per tenant from its custom field definitions, so the
strict filter backend accepts exactly the tenant's fields (and refuses a typo with 400)."""
from __future__ import annotations

from django_filters import rest_framework as filters

from apps.crm import customfields
from apps.crm.models import (
    Account, Activity, Campaign, Contact, ContactList, CustomField, Deal, DealStage, ImportJob, ImportMap, Lead, Task,
)

FT = CustomField.FieldType


def _exact(name: str, convert):
    def method(queryset, _field_name, value):
        try:
            value = convert(value)
        except customfields.CustomValueError:
            return queryset.none()
        return queryset.filter(custom__contains={name: value})
    return method


def _compare(name: str, lookup: str, convert):
    def method(queryset, _field_name, value):
        return queryset.filter(**{f"custom__{name}__{lookup}": convert(value)})
    return method


def custom_filters(definition: CustomField) -> dict[str, filters.Filter]:
    n = definition.name
    key = f"cf_{n}"
    label = definition.label
    if definition.field_type == FT.NUMBER:
        return {key: filters.NumberFilter(method=_exact(n, customfields.parse_number), label=label),
                f"{key}_min": filters.NumberFilter(method=_compare(n, "gte", float), label=f"{label} >="),
                f"{key}_max": filters.NumberFilter(method=_compare(n, "lte", float), label=f"{label} <=")}
    if definition.field_type == FT.DATE:
        return {key: filters.DateFilter(method=_exact(n, lambda d: d.isoformat()), label=label),
                f"{key}_after": filters.DateFilter(method=_compare(n, "gte", lambda d: d.isoformat()),
                                                   label=f"{label} on or after"),
                f"{key}_before": filters.DateFilter(method=_compare(n, "lt", lambda d: d.isoformat()),
                                                    label=f"{label} before")}
    if definition.field_type == FT.BOOLEAN:
        return {key: filters.BooleanFilter(method=_exact(n, bool), label=label)}
    if definition.field_type == FT.MULTI_CHOICE:
        return {key: filters.CharFilter(method=_exact(n, lambda v: [customfields.coerce(definition, v)[0]]),
                                        label=label)}
    if definition.field_type in (FT.CHOICE, FT.EMAIL, FT.PHONE, FT.URL):
        return {key: filters.CharFilter(method=_exact(n, lambda v: customfields.coerce(definition, v)), label=label)}
    return {key: filters.CharFilter(method=_exact(n, str), label=label)}


class CustomFieldFilterSet(filters.FilterSet):
    custom_object_type: str | None = None

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        if self.custom_object_type and getattr(request, "tenant", None) is not None:
            for definition in customfields.definitions(self.custom_object_type):
                for name, f in custom_filters(definition).items():
                    f.model = self._meta.model
                    f.field_name = name
                    self.filters[name] = f


class Created(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")


class TagFilter(filters.CharFilter):
    def filter(self, qs, value):
        # The "not empty" clause lets PostgreSQL use the partial GIN index on non-empty tags.
        return qs.filter(tags__contains=[value]).exclude(tags=[]) if value else qs


class ContactFilter(Created, CustomFieldFilterSet):
    custom_object_type = "contact"
    tag = TagFilter(label="Has this tag")
    account_name = filters.CharFilter(field_name="account__name", lookup_expr="icontains")
    has_email = filters.BooleanFilter(field_name="email", method="filter_has")
    list = filters.NumberFilter(field_name="lists__id")
    import_job = filters.NumberFilter(field_name="created_by_import_id")

    class Meta:
        model = Contact
        fields = {"email": ["exact"], "external_id": ["exact"], "account": ["exact"], "owner": ["exact"],
                  "source": ["exact"], "shared_in_directory": ["exact"], "country": ["exact"], "city": ["exact"],
                  "last_name": ["exact", "istartswith"]}

    def filter_has(self, queryset, name, value):
        return queryset.exclude(**{name: ""}) if value else queryset.filter(**{name: ""})


class AccountFilter(Created, CustomFieldFilterSet):
    custom_object_type = "account"
    tag = TagFilter()

    class Meta:
        model = Account
        fields = {"name": ["exact", "icontains"], "industry": ["exact"], "owner": ["exact"], "country": ["exact"],
                  "external_id": ["exact"]}


class LeadFilter(Created, CustomFieldFilterSet):
    custom_object_type = "lead"

    class Meta:
        model = Lead
        fields = {"status": ["exact", "in"], "source": ["exact"], "owner": ["exact"], "email": ["exact"],
                  "company": ["exact", "icontains"]}


class ContactListFilter(Created):
    class Meta:
        model = ContactList
        fields = {"name": ["exact", "icontains"]}


class CustomFieldFilter(filters.FilterSet):
    class Meta:
        model = CustomField
        fields = ("object_type", "field_type", "required", "unique")


class ActivityFilter(Created, CustomFieldFilterSet):
    custom_object_type = "activity"
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ("kind", "owner", "contact", "account", "lead", "deal")


class TaskFilter(Created, CustomFieldFilterSet):
    custom_object_type = "task"
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")

    class Meta:
        model = Task
        fields = ("status", "priority", "assignee", "contact", "account", "lead", "deal")


class CampaignFilter(Created, CustomFieldFilterSet):
    custom_object_type = "campaign"
    active_on = filters.DateFilter(method="filter_active_on")

    class Meta:
        model = Campaign
        fields = ("status",)

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value).exclude(ends_on__lt=value)


class DealFilter(Created, CustomFieldFilterSet):
    custom_object_type = "deal"
    status = filters.ChoiceFilter(field_name="stage__kind", choices=DealStage.Kind.choices)
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte")
    close_before = filters.DateFilter(field_name="expected_close", lookup_expr="lte")
    close_after = filters.DateFilter(field_name="expected_close", lookup_expr="gte")

    class Meta:
        model = Deal
        fields = ("stage", "currency", "account", "contact", "owner")


class DealStageFilter(filters.FilterSet):
    class Meta:
        model = DealStage
        fields = ("kind",)


class ImportMapFilter(filters.FilterSet):
    class Meta:
        model = ImportMap
        fields = ("dedupe_on", "on_match")


class ImportJobFilter(filters.FilterSet):
    class Meta:
        model = ImportJob
        fields = ("status", "mode")
