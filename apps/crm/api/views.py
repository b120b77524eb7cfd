"""CRM resources under /api/crm-<resource>/<tenant>/. Viewsets declare; services write."""
from __future__ import annotations

import io

from django.db.models import Count
from django.http import StreamingHttpResponse
from django_tenants.utils import schema_context
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.crm import imports, selectors, services
from apps.crm.api import filters as f
from apps.crm.api import serializers as s
from apps.crm.models import (
    Account, Activity, Campaign, CampaignMember, Contact, ContactList, CustomField, Deal, DealStage, ImportJob,
    ImportMap, Lead, Task,
)
from apps.crm.phones import PhoneError
from thirdlane.api.errors import Conflict, DomainError, Invalid, problem_response
from thirdlane.api.parsers import JSONParser
from thirdlane.api.serializers import reject_unknown_fields
from thirdlane.api.viewsets import TenantScopedViewSet


class CsvBodyParser(parsers.BaseParser):
    """A raw CSV body (``Content-Type: text/csv``): the view reads the bytes itself."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"_raw": stream.read() if stream is not None else b""}


class CrmViewSet(TenantScopedViewSet):
    """Every CRM resource: writes through ``<object>_create/update/delete(actor=, tenant=, ...)``."""


class ContactViewSet(CrmViewSet):
    """Contacts. Phones are stored in E.164; `lookup` finds contacts by any phone format (screen pop);
    `import` and `import/preview` take CSV files."""

    queryset = Contact.objects.select_related("account")
    serializer_class = s.ContactSerializer
    filterset_class = f.ContactFilter
    search_fields = ("first_name", "last_name", "email", "phone", "mobile", "work_phone", "external_id",
                     "account__name")
    ordering_fields = ("last_name", "first_name", "email", "created_at", "updated_at", "id")
    ordering = ("last_name", "first_name", "id")
    create_service = services.contact_create
    update_service = services.contact_update
    delete_service = services.contact_delete
    parser_classes = [JSONParser]

    @property
    def max_body_bytes(self) -> int:  # imports take files; everything else keeps the API default
        from django.conf import settings

        if getattr(self, "action", None) in ("import_contacts", "import_preview"):
            return imports.max_bytes() + 256 * 1024  # multipart overhead; the file itself is checked exactly
        return settings.API_MAX_BODY_BYTES

    def initialize_request(self, request, *args, **kwargs):
        request = super().initialize_request(request, *args, **kwargs)
        # The action is only known here (after get_parsers ran); the body is parsed lazily later.
        if self.action in ("import_contacts", "import_preview"):
            request.parsers = [parsers.MultiPartParser(), parsers.FormParser(), CsvBodyParser(),
                               JSONParser()]
        return request

    @property
    def filter_all_actions(self) -> bool:  # the CSV export takes the list's filters
        return getattr(self, "action", None) == "export"

    @extend_schema(parameters=[OpenApiParameter("phone", str, required=True,
                                                description="A phone number in any format (read with the tenant's "
                                                            "default region).")],
                   responses=s.ContactLookupSerializer(many=True))
    @action(detail=False, methods=["get"])
    def lookup(self, request, tenant=None):
        """Screen pop: contacts whose phone, mobile or work phone is this number, with their account."""
        raw = request.query_params.get("phone", "")
        if not raw.strip():
            raise Invalid("Give the number as ?phone=.", field="phone")
        try:
            queryset = selectors.contacts_by_phone(raw, self.tenant.default_region)
        except PhoneError as exc:
            raise DomainError(str(exc), code="invalid_phone", field="phone") from None
        return self.paginated(queryset, s.ContactLookupSerializer)

    # --- imports -----------------------------------------------------------------------------
    def _import_args(self, request) -> tuple[object, dict]:
        data = request.data
        raw = data.get("_raw") if hasattr(data, "get") else None
        if raw is not None:
            fields = request.query_params.dict()
            upload = raw
        else:
            fields = {k: v for k, v in data.items() if k != "file"} if hasattr(data, "items") else {}
            upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        body = s.ImportRequestSerializer(data=fields, context=self.get_serializer_context())
        reject_unknown_fields(body, fields)
        body.is_valid(raise_exception=True)
        args = dict(body.validated_data)
        if upload is None:
            raise Invalid("Upload the CSV as the multipart field 'file', or send it as a text/csv body.",
                          field="file")
        size = len(upload) if isinstance(upload, (bytes, bytearray)) else upload.size
        if size > imports.max_bytes():
            raise DomainError(f"The file is larger than {imports.max_bytes() // (1024 * 1024)} MiB. Split it into "
                              "smaller files.", code="payload_too_large", field="file")
        if size == 0:
            raise DomainError("The file is empty.", code="import_file_invalid", field="file")
        if args.get("delimiter"):
            args["delimiter"] = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}.get(
                args["delimiter"], args["delimiter"])
        return upload, args

    @extend_schema(
        request={"multipart/form-data": s.ImportRequestSerializer, "text/csv": {"type": "string"}},
        responses={201: s.ImportJobSerializer, 202: OpenApiResponse(s.ImportJobSerializer,
                                                                   "Queued; poll the job's status URL."),
                   413: OpenApiResponse(description="payload_too_large: the file is over the limit (50 MiB).")})
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_contacts(self, request, tenant=None):
        """Import contacts from CSV. Small files import in the request (201); larger ones run as a
        job (202, `Location` = the job's status URL). One `crm.import.completed` event per import."""
        upload, args = self._import_args(request)
        file_name = args.pop("file_name", "") or getattr(upload, "name", "") or "upload.csv"
        job = imports.import_upload(actor=self.principal, tenant=self.tenant, upload=upload, file_name=file_name,
                                    **args)
        location = f"/api/crm-imports/{self.tenant.slug}/{job.pk}/"
        if job.size_bytes <= imports.inline_bytes():
            job = imports.import_run(tenant=self.tenant, job_id=job.pk)
            status = 201
        else:
            imports.import_queue(actor=self.principal, tenant=self.tenant, job=job)
            status = 202
        data = s.ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(data, status=status, headers={"Location": location})

    @extend_schema(request={"multipart/form-data": s.ImportRequestSerializer, "text/csv": {"type": "string"}},
                   responses={200: s.ImportPreviewSerializer,
                              202: OpenApiResponse(s.ImportJobSerializer, "A big file: stored, and previewed by a "
                                                   "job; poll `preview.progress` on the job (`Location`), then "
                                                   "GET its `preview.url`."),
                              413: OpenApiResponse(description="payload_too_large: the file is over the limit.")})
    @action(detail=False, methods=["post"], url_path="import/preview", url_name="import-preview")
    def import_preview(self, request, tenant=None):
        """What an import would do, for the whole file: detected columns, suggested map, the first
        rows as they would be stored, counts to create/update/skip and every error. Writes nothing.
        Files up to 256 KiB answer 200 with the preview; larger ones are stored as a draft import and
        previewed by a job (202, `Location` = the job, whose `preview` says how far it is)."""
        upload, args = self._import_args(request)
        size = len(upload) if isinstance(upload, (bytes, bytearray)) else upload.size
        if size <= imports.preview_inline_bytes():
            args.pop("file_name", None)
            return Response(imports.import_preview(tenant=self.tenant, upload=upload, **args))
        file_name = args.pop("file_name", "") or getattr(upload, "name", "") or "upload.csv"
        job = imports.import_upload(actor=self.principal, tenant=self.tenant, upload=upload, file_name=file_name,
                                    status=ImportJob.Status.DRAFT, **args)
        job = imports.import_preview_queue(tenant=self.tenant, job=job)
        data = s.ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(data, status=202, headers={"Location": f"/api/crm-imports/{self.tenant.slug}/{job.pk}/"})

    @extend_schema(responses={(200, "text/csv"): {"type": "string"}})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request, tenant=None):
        """All contacts matching the filters as CSV (formula cells neutralised)."""
        from thirdlane.csvsafe import neutralise
        import csv

        queryset = self.filter_queryset(self.get_queryset())
        columns = ["id", "first_name", "last_name", "title", "email", "phone", "mobile", "work_phone", "account_name",
                   "city", "country", "owner", "tags", "source", "external_id"]
        schema = self.tenant.schema_name

        def rows():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns + ["custom"])
            with schema_context(schema):
                for c in queryset.iterator(chunk_size=2000):
                    values = [c.pk, c.first_name, c.last_name, c.title, c.email, c.phone, c.mobile, c.work_phone,
                              c.account.name if c.account_id else "", c.city, c.country, c.owner, ";".join(c.tags),
                              c.source, c.external_id, ";".join(f"{k}={v}" for k, v in (c.custom or {}).items())]
                    writer.writerow([neutralise(str(v)) for v in values])
                    if buffer.tell() > 64 * 1024:
                        yield buffer.getvalue()
                        buffer.seek(0)
                        buffer.truncate()
            yield buffer.getvalue()

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="contacts-{self.tenant.slug}.csv"'
        return response


class AccountViewSet(CrmViewSet):
    queryset = Account.objects.all()
    serializer_class = s.AccountSerializer
    filterset_class = f.AccountFilter
    search_fields = ("name", "website", "email", "phone", "external_id")
    ordering_fields = ("name", "created_at", "updated_at", "id")
    ordering = ("name", "id")
    create_service = services.account_create
    update_service = services.account_update
    delete_service = services.account_delete


class LeadViewSet(CrmViewSet):
    queryset = Lead.objects.all()
    serializer_class = s.LeadSerializer
    filterset_class = f.LeadFilter
    search_fields = ("first_name", "last_name", "company", "email", "phone")
    ordering_fields = ("created_at", "updated_at", "last_name", "company", "status", "id")
    ordering = ("-created_at", "-id")
    create_service = services.lead_create
    update_service = services.lead_update
    delete_service = services.lead_delete

    @extend_schema(request=s.LeadConvertSerializer, responses=s.LeadConversionSerializer)
    @action(detail=True, methods=["post"])
    def convert(self, request, tenant=None, pk=None):
        """Convert the lead into a contact, an account (found by company name or created) and
        optionally a deal."""
        body = self.body(s.LeadConvertSerializer)
        result = services.lead_convert(actor=self.principal, tenant=self.tenant, lead=self.get_object(),
                                       **body.validated_data)
        return Response(s.LeadConversionSerializer(result, context=self.get_serializer_context()).data)


class ContactListViewSet(CrmViewSet):
    queryset = ContactList.objects.annotate(member_count=Count("memberships"))
    serializer_class = s.ContactListSerializer
    filterset_class = f.ContactListFilter
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at", "member_count", "id")
    ordering = ("name",)
    create_service = services.list_create
    update_service = services.list_update
    delete_service = services.list_delete

    @extend_schema(methods=["get"], responses=s.ContactLookupSerializer(many=True))
    @extend_schema(methods=["post"], request=s.ContactIdsSerializer, responses=s.MembersResultSerializer)
    @action(detail=True, methods=["get", "post"])
    def members(self, request, tenant=None, pk=None):
        """GET: the list's contacts (paginated). POST {"contacts": [ids]}: add them (bulk; already there is fine)."""
        contact_list = self.get_object()
        if request.method == "GET":
            queryset = Contact.objects.select_related("account").filter(
                list_memberships__contact_list=contact_list).order_by("last_name", "first_name", "id")
            return self.paginated(queryset, s.ContactLookupSerializer)
        body = self.body(s.ContactIdsSerializer)
        changed = services.list_add_members(actor=self.principal, tenant=self.tenant, contact_list=contact_list,
                                            contacts=body.validated_data["contacts"])
        return Response({"changed": changed, "member_count": contact_list.memberships.count()})

    @extend_schema(request=s.ContactIdsSerializer, responses=s.MembersResultSerializer)
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_members(self, request, tenant=None, pk=None):
        """Remove contacts from the list (bulk; not a member is fine)."""
        contact_list = self.get_object()
        body = self.body(s.ContactIdsSerializer)
        changed = services.list_remove_members(actor=self.principal, tenant=self.tenant, contact_list=contact_list,
                                               contacts=body.validated_data["contacts"])
        return Response({"changed": changed, "member_count": contact_list.memberships.count()})


class CustomFieldViewSet(CrmViewSet):
    """Custom field definitions per object type. Values live in each object's `custom` and are
    filterable on that object's list as `cf_<name>` (numbers and dates also `_min`/`_max`,
    `_after`/`_before`)."""

    queryset = CustomField.objects.all()
    serializer_class = s.CustomFieldSerializer
    filterset_class = f.CustomFieldFilter
    search_fields = ("name", "label")
    ordering_fields = ("object_type", "position", "name", "id")
    ordering = ("object_type", "position", "name")
    create_service = services.custom_field_create
    update_service = services.custom_field_update
    delete_service = services.custom_field_delete


class ActivityViewSet(CrmViewSet):
    queryset = Activity.objects.all()
    serializer_class = s.ActivitySerializer
    filterset_class = f.ActivityFilter
    search_fields = ("subject", "body")
    ordering_fields = ("occurred_at", "created_at", "id")
    ordering = ("-occurred_at", "-id")
    create_service = services.activity_create
    update_service = services.activity_update
    delete_service = services.activity_delete


class TaskViewSet(CrmViewSet):
    queryset = Task.objects.all()
    serializer_class = s.TaskSerializer
    filterset_class = f.TaskFilter
    search_fields = ("title", "description")
    ordering_fields = ("due_date", "priority", "status", "created_at", "id")
    ordering = ("due_date", "id")
    create_service = services.task_create
    update_service = services.task_update
    delete_service = services.task_delete


class CampaignViewSet(CrmViewSet):
    queryset = Campaign.objects.annotate(member_count=Count("memberships", distinct=True)).prefetch_related("lists")
    serializer_class = s.CampaignSerializer
    filterset_class = f.CampaignFilter
    search_fields = ("name", "description")
    ordering_fields = ("name", "starts_on", "ends_on", "status", "created_at", "id")
    ordering = ("-starts_on", "name")
    create_service = services.campaign_create
    update_service = services.campaign_update
    delete_service = services.campaign_delete

    @extend_schema(methods=["get"], responses=s.CampaignMemberSerializer(many=True))
    @extend_schema(methods=["post"], request=s.CampaignAddMembersSerializer, responses=s.MembersResultSerializer)
    @action(detail=True, methods=["get", "post"])
    def members(self, request, tenant=None, pk=None):
        """GET: members with their status. POST {"contacts": [...], "lists": [...], "status": "pending"}: add."""
        campaign = self.get_object()
        if request.method == "GET":
            queryset = CampaignMember.objects.filter(campaign=campaign).select_related(
                "contact", "contact__account").order_by("contact__last_name", "contact_id")
            status = request.query_params.get("status")
            if status:
                queryset = queryset.filter(status=status)
            return self.paginated(queryset, s.CampaignMemberSerializer)
        body = self.body(s.CampaignAddMembersSerializer)
        changed = services.campaign_add_members(actor=self.principal, tenant=self.tenant, campaign=campaign,
                                                **body.validated_data)
        return Response({"changed": changed, "member_count": campaign.memberships.count()})

    @extend_schema(request=s.ContactIdsSerializer, responses=s.MembersResultSerializer)
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_members(self, request, tenant=None, pk=None):
        campaign = self.get_object()
        body = self.body(s.ContactIdsSerializer)
        changed = services.campaign_remove_members(actor=self.principal, tenant=self.tenant, campaign=campaign,
                                                   contacts=body.validated_data["contacts"])
        return Response({"changed": changed, "member_count": campaign.memberships.count()})

    @extend_schema(request=s.CampaignMemberStatusSerializer, responses=s.MembersResultSerializer)
    @action(detail=True, methods=["post"], url_path="members/status")
    def member_status(self, request, tenant=None, pk=None):
        """Set the status (sent, responded, converted, ...) of some members."""
        campaign = self.get_object()
        body = self.body(s.CampaignMemberStatusSerializer)
        changed = services.campaign_set_member_status(actor=self.principal, tenant=self.tenant, campaign=campaign,
                                                      **body.validated_data)
        return Response({"changed": changed, "member_count": campaign.memberships.count()})


class DealViewSet(CrmViewSet):
    queryset = Deal.objects.select_related("stage")
    serializer_class = s.DealSerializer
    filterset_class = f.DealFilter
    search_fields = ("name", "notes")
    ordering_fields = ("created_at", "amount", "expected_close", "name", "id")
    ordering = ("-created_at", "-id")
    create_service = services.deal_create
    update_service = services.deal_update
    delete_service = services.deal_delete


class DealStageViewSet(CrmViewSet):
    """The tenant's deal pipeline. A new tenant gets five default stages on first use."""

    queryset = DealStage.objects.all()
    serializer_class = s.DealStageSerializer
    filterset_class = f.DealStageFilter
    ordering_fields = ("position", "name", "id")
    ordering = ("position", "id")
    create_service = services.deal_stage_create
    update_service = services.deal_stage_update
    delete_service = services.deal_stage_delete

    def list(self, request, *args, **kwargs):
        services.ensure_pipeline()
        return super().list(request, *args, **kwargs)


class ImportMapViewSet(CrmViewSet):
    queryset = ImportMap.objects.all()
    serializer_class = s.ImportMapSerializer
    filterset_class = f.ImportMapFilter
    search_fields = ("name", "description")
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name",)
    create_service = services.import_map_create
    update_service = services.import_map_update
    delete_service = services.import_map_delete


class ImportJobViewSet(CrmViewSet):
    """Contact import jobs: status and progress, the error CSV, undo."""

    queryset = ImportJob.objects.all()
    serializer_class = s.ImportJobSerializer
    filterset_class = f.ImportJobFilter
    ordering_fields = ("created_at", "id")
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "delete", "head", "options"]
    delete_service = imports.import_delete  # imports start at POST /api/crm-contacts/<tenant>/import

    @extend_schema(responses={(200, "text/csv"): {"type": "string"}})
    @action(detail=True, methods=["get"])
    def errors(self, request, tenant=None, pk=None):
        """The refused and skipped rows as CSV: row number, level, messages, then the original cells
        (cells that would run as spreadsheet formulas are neutralised)."""
        job = self.get_object()
        schema = self.tenant.schema_name

        def body():
            with schema_context(schema):
                yield from imports.error_rows(job)

        response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response

    @extend_schema(responses={200: s.ImportPreviewSerializer,
                              400: OpenApiResponse(description="The file cannot be imported (the problem the "
                                                               "preview found, e.g. import_file_invalid)."),
                              409: OpenApiResponse(description="conflict: no preview was asked for this import, or "
                                                               "it is not ready yet (see the job's "
                                                               "`preview.progress`).")})
    @action(detail=True, methods=["get"])
    def preview(self, request, tenant=None, pk=None):
        """The preview of a big file, once its job is done (`POST /api/crm-contacts/<tenant>/import/preview`
        answered 202)."""
        job = self.get_object()
        if job.preview_status == ImportJob.PreviewStatus.READY:
            return Response(job.preview)
        if job.preview_status == ImportJob.PreviewStatus.FAILED:
            error = (job.preview or {}).get("error") or {}
            raise DomainError(error.get("detail", ""), code=error.get("code") or "import_file_invalid", field="file")
        if not job.preview_status:
            raise Conflict("No preview was asked for this import.")
        return problem_response("conflict", f"The preview is not ready yet ({job.preview_percent}% of the rows "
                                            "read). Try again in a moment.", headers={"Retry-After": "1"})

    @extend_schema(request=None, responses=s.ImportJobSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request, tenant=None, pk=None):
        """Delete the contacts this import created (and accounts it created that nothing else uses)."""
        job = imports.import_undo(actor=self.principal, tenant=self.tenant, job=self.get_object())
        return Response(s.ImportJobSerializer(job, context=self.get_serializer_context()).data)
