"""Field shapes only: normalising and validating values is the services' job."""
from __future__ import annotations

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.crm.models import (
    Account, Activity, Campaign, CampaignMember, Contact, ContactList, CustomField, Deal, DealStage, ImportJob,
    ImportMap, Lead, Task,
)


@extend_schema_field({"type": "object", "additionalProperties": True,
                      "description": "Custom field values by field name (see /api/crm-custom-fields/<tenant>/). "
                                     "On update, the given keys replace the stored ones; null removes one. "
                                     "Example: `{\"tier\": \"gold\", \"seats\": 25}` once those fields exist.",
                      # Scalar sends the example with the first "Test request": it must be valid in any tenant.
                      "example": {}})
class CustomValuesField(serializers.JSONField):
    pass


class TextField(serializers.CharField):
    """Text takes JSON strings only: the document says ``type: string``, while DRF's CharField
    would store the number 12 as "12"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CrmModelSerializer(serializers.ModelSerializer):
    """Model text columns (and text array items) become ``TextField``s."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.CharField: TextField, models.TextField: TextField}


def phone_field():
    return TextField(max_length=50, allow_blank=True, required=False,
                                 help_text="Any format; stored in E.164 using the tenant's default region.")


@extend_schema_field({"type": "string", "maxLength": 254, "anyOf": [{"format": "email"}, {"const": ""}],
                      "description": "An e-mail address as Django's EmailValidator accepts it (no empty or "
                                     "hyphen-edged labels), or empty. Stored lower-cased.",
                      "example": "ada@example.com"})
class EmailText(TextField):
    """Validated by the services (``customfields.parse_email``, the importer's rule too)."""


def email_field():
    return EmailText(max_length=254, allow_blank=True, required=False)


class CrmSerializer(CrmModelSerializer):
    custom = CustomValuesField(required=False)


class AccountSerializer(CrmSerializer):
    phone = phone_field()
    email = email_field()

    class Meta:
        model = Account
        fields = ("id", "name", "website", "industry", "phone", "email", "street", "city", "region", "postal_code",
                  "country", "owner", "tags", "external_id", "notes", "custom", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"external_id": {"validators": []}}


class AccountBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ("id", "name", "phone", "website")


class ContactSerializer(CrmSerializer):
    phone = phone_field()
    mobile = phone_field()
    work_phone = phone_field()
    email = email_field()
    other_email = email_field()
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    # A method field, so it is present in every response (a default on a dotted source is skipped
    # in partial updates).
    account_name = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ("id", "first_name", "last_name", "title", "email", "other_email", "phone", "mobile", "work_phone",
                  "street", "city", "region", "postal_code", "country", "account", "account_name", "owner", "tags",
                  "source", "external_id", "shared_in_directory", "notes", "custom", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"external_id": {"validators": []}}

    @extend_schema_field({"type": ["string", "null"], "readOnly": True})
    def get_account_name(self, contact) -> str | None:
        return contact.account.name if contact.account_id else None


class ContactLookupSerializer(serializers.ModelSerializer):
    account = AccountBriefSerializer(read_only=True, allow_null=True)  # null: a contact without an account
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = ("id", "full_name", "first_name", "last_name", "title", "email", "phone", "mobile", "work_phone",
                  "account", "owner", "tags", "custom")


class LeadSerializer(CrmSerializer):
    phone = phone_field()
    email = email_field()

    class Meta:
        model = Lead
        fields = ("id", "first_name", "last_name", "company", "title", "email", "phone", "status", "source", "owner",
                  "notes", "custom", "converted_at", "converted_contact", "converted_account", "converted_deal",
                  "created_at", "updated_at")
        read_only_fields = ("converted_at", "converted_contact", "converted_account", "converted_deal",
                            "created_at", "updated_at")

    def validate_status(self, value):
        if value == Lead.Status.CONVERTED:
            raise serializers.ValidationError("Use the convert action to convert a lead.", code="invalid")
        return value


class LeadConvertSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False, allow_null=True,
                                                 help_text="Attach the contact to this account instead of the "
                                                           "lead's company.")
    create_account = serializers.BooleanField(default=True, help_text="Find or create an account from the "
                                                                      "lead's company.")
    create_deal = serializers.BooleanField(default=False)
    deal_name = TextField(max_length=200, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
    stage = serializers.PrimaryKeyRelatedField(queryset=DealStage.objects.all(), required=False, allow_null=True)
    expected_close = serializers.DateField(required=False, allow_null=True)


class LeadConversionSerializer(serializers.Serializer):
    lead = LeadSerializer()
    contact = ContactSerializer()
    account = AccountSerializer(allow_null=True)
    deal = serializers.SerializerMethodField()

    def get_deal(self, obj) -> dict | None:
        return DealSerializer(obj["deal"]).data if obj.get("deal") else None


class ContactListSerializer(CrmModelSerializer):
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = ContactList
        fields = ("id", "name", "description", "member_count", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}


class ContactIdsSerializer(serializers.Serializer):
    contacts = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10000)


class MembersResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
    member_count = serializers.IntegerField()


class CustomFieldSerializer(CrmModelSerializer):
    class Meta:
        model = CustomField
        fields = ("id", "object_type", "name", "label", "field_type", "required", "unique", "choices", "help_text",
                  "position", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        validators = []


class LinkedSerializer(CrmSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    lead = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.all(), required=False, allow_null=True)
    deal = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)


class ActivitySerializer(LinkedSerializer):
    class Meta:
        model = Activity
        fields = ("id", "kind", "subject", "body", "occurred_at", "duration_seconds", "owner", "contact", "account",
                  "lead", "deal", "custom", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class TaskSerializer(LinkedSerializer):
    class Meta:
        model = Task
        fields = ("id", "title", "description", "due_date", "status", "priority", "assignee", "completed_at",
                  "contact", "account", "lead", "deal", "custom", "created_at", "updated_at")
        read_only_fields = ("completed_at", "created_at", "updated_at")


class CampaignSerializer(CrmSerializer):
    lists = serializers.PrimaryKeyRelatedField(queryset=ContactList.objects.all(), many=True, required=False)
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Campaign
        fields = ("id", "name", "description", "status", "starts_on", "ends_on", "lists", "member_count", "custom",
                  "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}


class CampaignMemberSerializer(serializers.ModelSerializer):
    contact = ContactLookupSerializer(read_only=True)

    class Meta:
        model = CampaignMember
        fields = ("contact", "status", "added_at", "updated_at")


class CampaignAddMembersSerializer(serializers.Serializer):
    contacts = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                     max_length=10000)
    lists = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    status = serializers.ChoiceField(choices=CampaignMember.Status.choices, default=CampaignMember.Status.PENDING)

    def validate(self, attrs):
        if not attrs["contacts"] and not attrs["lists"]:
            raise serializers.ValidationError({"contacts": ["Give contacts or lists."]})
        return attrs


class CampaignMemberStatusSerializer(serializers.Serializer):
    contacts = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10000)
    status = serializers.ChoiceField(choices=CampaignMember.Status.choices)


class DealStageSerializer(CrmModelSerializer):
    class Meta:
        model = DealStage
        fields = ("id", "name", "position", "probability", "kind")
        extra_kwargs = {"name": {"validators": []}, "probability": {"max_value": 100}}


class DealSerializer(CrmSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=DealStage.objects.all(), required=False,
                                               help_text="Defaults to the first stage of the pipeline.")
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    status = serializers.CharField(source="stage.kind", read_only=True, help_text="open, won or lost.")
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Deal
        fields = ("id", "name", "stage", "stage_name", "status", "amount", "currency", "account", "contact",
                  "expected_close", "owner", "notes", "closed_at", "custom", "created_at", "updated_at")
        read_only_fields = ("closed_at", "created_at", "updated_at")


class ImportMapSerializer(CrmModelSerializer):
    columns = serializers.JSONField(help_text='{"<CSV header>": {"field": "email" | "cf:<name>" | "", '
                                              '"transforms": ["trim", "lower"], "default": "", "date_format": ""}}')

    class Meta:
        model = ImportMap
        fields = ("id", "name", "description", "columns", "dedupe_on", "on_match", "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")
        extra_kwargs = {"name": {"validators": []}}


class ImportProgressSerializer(serializers.Serializer):
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField()


class ImportPreviewStateSerializer(serializers.Serializer):
    """A preview computed by a job (big files): how far it is, and where its result is."""

    status = serializers.ChoiceField(choices=ImportJob.PreviewStatus.choices)
    progress = ImportProgressSerializer()
    error = serializers.CharField(allow_null=True, help_text="Why the file cannot be imported (status failed).")
    url = serializers.CharField(help_text="GET it for the preview once the status is ready.")


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    errors_url = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField(help_text="The preview job of a big file, null when none was asked.")

    class Meta:
        model = ImportJob
        fields = ("id", "status", "phase", "mode", "import_map", "file_name", "size_bytes", "encoding", "delimiter",
                  "dedupe_on", "on_match", "columns", "progress", "rows_total", "rows_done", "created_count",
                  "updated_count", "skipped_count", "error_count", "error_message", "actor_label", "created_at",
                  "started_at", "finished_at", "undone_at", "errors_url", "preview")
        read_only_fields = fields

    @extend_schema_field(ImportProgressSerializer)
    def get_progress(self, job) -> dict:
        return {"rows_done": job.rows_done, "rows_total": job.rows_total, "percent": job.percent}

    @extend_schema_field(ImportPreviewStateSerializer(allow_null=True))
    def get_preview(self, job) -> dict | None:
        if not job.preview_status:
            return None
        tenant = self.context.get("tenant")
        error = (job.preview or {}).get("error") if job.preview_status == ImportJob.PreviewStatus.FAILED else None
        return {"status": job.preview_status,
                "progress": {"rows_done": job.preview_rows_done, "rows_total": job.rows_total,
                             "percent": job.preview_percent},
                "error": (error or {}).get("detail"),
                "url": f"/api/crm-imports/{tenant.slug if tenant else '-'}/{job.pk}/preview"}

    def get_errors_url(self, job) -> str | None:
        tenant = self.context.get("tenant")
        if not tenant or not (job.error_count or job.skipped_count):
            return None
        return f"/api/crm-imports/{tenant.slug}/{job.pk}/errors"


class ImportRequestSerializer(serializers.Serializer):
    """Multipart form fields of an import (a raw text/csv body takes them as query parameters)."""

    file = serializers.FileField(required=False, help_text="The CSV file (multipart). Or send the CSV as the "
                                                           "request body with Content-Type text/csv.")
    import_map = serializers.PrimaryKeyRelatedField(queryset=ImportMap.objects.all(), required=False,
                                                    allow_null=True, help_text="A saved map (id).")
    columns = serializers.JSONField(required=False, help_text="An inline map (overrides import_map's columns).")
    dedupe_on = serializers.ChoiceField(choices=ImportMap.DedupeOn.choices, required=False)
    on_match = serializers.ChoiceField(choices=ImportMap.OnMatch.choices, required=False)
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, required=False)
    encoding = serializers.CharField(required=False, allow_blank=True, max_length=32,
                                     help_text="Declare the encoding; detected when omitted.")
    delimiter = serializers.ChoiceField(choices=["comma", "semicolon", "tab", "pipe", ",", ";", "|"], required=False,
                                        help_text="Declare the delimiter; detected when omitted.")
    file_name = serializers.CharField(required=False, max_length=255)

    def validate_columns(self, value):
        import json

        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("columns is not valid JSON.") from None
        return value


class ImportPreviewSerializer(serializers.Serializer):
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField(), help_text="The file's headers.")
    mapping = serializers.JSONField(help_text="The map that would be used (suggested when none was given).")
    ignored_columns = serializers.ListField(child=serializers.CharField())
    dedupe_on = serializers.CharField()
    on_match = serializers.CharField()
    mode = serializers.CharField()
    rows = serializers.IntegerField()
    summary = serializers.JSONField(help_text="{create, update, skip, error} row counts for the whole file.")
    errors_by_column = serializers.JSONField()
    issues = serializers.JSONField(help_text="The first rows with errors or skipped, with their messages.")
    sample = serializers.JSONField(help_text="The first rows as they would be stored.")
