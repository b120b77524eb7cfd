"""/api/sms/<tenant>/messages/ (send, list, one message, conversations), the adapters' inbound
endpoint and the reference adapters' downloads."""
from __future__ import annotations

import json
import os

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from standardwebhooks import Webhook, WebhookVerificationError

from apps.sms import adapters, selectors, services
from apps.sms.api import serializers as s
from apps.sms.api.filters import SmsMessageFilter, SmsOptOutFilter
from apps.sms.models import SmsMessage, SmsOptOut, SmsSettings
from apps.sms.providers.models import SmsProvider
from apps.sms.providers.services import key_matches, signing_secrets
from thirdlane.api.errors import DomainError, _translate, problem
from thirdlane.api.serializers import reject_unknown_fields
from thirdlane.api.filters import reject_unknown_params
from thirdlane.api.viewsets import ApiViewSet, TenantScopedViewSet
from thirdlane.ratelimit import limiter

KEY_HEADER = OpenApiParameter("X-SMS-Provider-Key", str, OpenApiParameter.HEADER, required=True,
                              description="The provider key shown when the provider was created.")
PROVIDER_PATH = OpenApiParameter("provider", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                 description="The provider's public id (its inbound URL).")
ACCEPTED = {202: OpenApiResponse(s.SmsMessageSerializer, "Queued; the message's URL is in Location.")}


class SmsMessageViewSet(TenantScopedViewSet):
    """SMS of the tenant's SMS-capable DIDs: send (queued, then sent by a worker through the SMS
    provider's adapter), list and filter, follow the status (queued → sent → delivered/failed with
    the carrier's reason), and conversations per DID and remote number."""

    queryset = SmsMessage.objects.all()
    serializer_class = s.SmsMessageSerializer
    filterset_class = SmsMessageFilter
    search_fields = ("text", "remote", "did")
    ordering_fields = ("created_at", "id", "status")
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "head", "options"]
    create_service = staticmethod(services.message_send)

    def get_serializer_class(self):
        return s.SmsSendSerializer if self.action == "create" else s.SmsMessageSerializer

    @extend_schema(request=s.SmsSendSerializer, responses=ACCEPTED)
    def create(self, request, *args, **kwargs):
        """Send an SMS from one of the tenant's SMS-capable DIDs. Answered at once with 202: a worker
        hands it to the provider's adapter (retried while the adapter or carrier is down)."""
        body = self.body(s.SmsSendSerializer)
        message = services.message_send(**self.service_kwargs(), **body.validated_data)
        data = s.SmsMessageSerializer(message, context=self.get_serializer_context()).data
        return Response(data, status=202, headers={"Location": f"/api/sms/{self.tenant.slug}/messages/{message.pk}/"})

    @extend_schema(responses=s.ConversationSerializer(many=True), filters=False, parameters=[
        OpenApiParameter("did", str, description="Only this DID's conversations (E.164)."),
        OpenApiParameter("remote", str, description="Only conversations with this number (E.164)."),
    ])
    @action(detail=False, methods=["get"])
    def conversations(self, request, tenant=None):
        """One row per DID and remote number, most recent first, with the last message. The thread
        itself: `GET messages/?did=...&remote=...`."""
        reject_unknown_params(request.query_params, {"limit", "offset", "did", "remote"})
        rows = selectors.conversations()
        for name in ("did", "remote"):
            if request.query_params.get(name):
                rows = rows.filter(**{name: request.query_params[name]})
        return self.paginated(rows, s.ConversationSerializer)


class SmsOptOutViewSet(TenantScopedViewSet):
    """Numbers that receive nothing more from one of the tenant's DIDs: those that sent STOP (or
    STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT) and those added here. A send to one of them is
    409 `recipient_opted_out`. Removing one opts the number back in, as its START would."""

    queryset = SmsOptOut.objects.all()
    serializer_class = s.SmsOptOutSerializer
    filterset_class = SmsOptOutFilter
    search_fields = ("remote", "did")
    ordering_fields = ("created_at", "id", "remote")
    ordering = ("-created_at", "-id")
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "delete", "head", "options"]
    create_service = staticmethod(services.opt_out_create)
    delete_service = staticmethod(services.opt_out_delete)


class SmsSettingsViewSet(TenantScopedViewSet):
    """The tenant's SMS rules: the longest text it sends (`max_segments`) and its send rate
    (`rate_per_minute`; empty: the platform default). One object per tenant."""

    queryset = SmsSettings.objects.none()
    serializer_class = s.SmsSettingsSerializer
    filter_backends: list = []
    http_method_names = ["get", "put", "patch", "head", "options"]
    update_service = staticmethod(services.sms_settings_update)

    def get_object(self):
        return selectors.settings_of()

    def retrieve(self, request, *args, **kwargs):
        """The tenant's SMS settings (the defaults until changed)."""
        reject_unknown_params(request.query_params, ())
        return super().retrieve(request, *args, **kwargs)


def _verify_signature(provider: SmsProvider, request, body: bytes) -> None:
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("webhook-")}
    if not headers and not provider.require_signature:
        return
    for secret in signing_secrets(provider):
        try:
            Webhook(secret).verify(body, headers)
            return
        except WebhookVerificationError:
            continue
    raise DomainError("The webhook signature is missing, wrong or older than 5 minutes.", code="invalid_signature")


def inbound_rate() -> int:
    """POSTs a minute one provider may make to the inbound endpoints (a batch is one); 0: no limit.
    ``SMS_INBOUND_RATE_PER_PROVIDER`` in the settings or the environment (default 60,000: 1,000/s)."""
    value = getattr(settings, "SMS_INBOUND_RATE_PER_PROVIDER", None)
    return int(value if value is not None else os.environ.get("SMS_INBOUND_RATE_PER_PROVIDER", "60000"))


def _rate_limit(provider: SmsProvider) -> None:
    """GCRA per provider in Redis (shared by every web worker), counted once the key is right, so
    a stranger's wrong keys cannot spend an adapter's budget. Redis down: allowed, like the API."""
    limit = inbound_rate()
    if limit <= 0:
        return
    decision = limiter.hit([limiter.Bucket("sms-inbound", f"rl:sms-inbound:{provider.public_id}", limit, 60)])
    if decision is not None and not decision.allowed:
        raise Throttled(wait=max(1, decision.retry_after),
                        detail=f"This SMS provider may post {limit} times a minute; retry after Retry-After seconds.")


class SmsInboundViewSet(ApiViewSet):
    """Where an SMS adapter posts inbound messages and delivery receipts (`X-SMS-Provider-Key`).
    Each provider may post `SMS_INBOUND_RATE_PER_PROVIDER` times a minute (a batch counts once);
    over it: 429 `rate_limited` with `Retry-After`, nothing stored."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    serializer_class = s.InboundSerializer
    filter_backends: list = []

    def _provider(self, request, provider) -> SmsProvider:
        raw = request._request.body
        found = SmsProvider.objects.select_related("tenant").filter(public_id=provider, enabled=True).first()
        if found is None or not key_matches(found, request.headers.get("X-SMS-Provider-Key", "")):
            raise DomainError("The SMS provider key is missing or wrong.", code="invalid_provider_key")
        _rate_limit(found)
        _verify_signature(found, request, raw)
        return found

    @extend_schema(
        request=s.InboundSerializer, auth=[], operation_id="sms_inbound",
        parameters=[KEY_HEADER, PROVIDER_PATH],
        responses={200: s.InboundResultSerializer,
                   401: OpenApiResponse(description="invalid_provider_key, invalid_signature"),
                   404: OpenApiResponse(description="sms_number_unknown (message), sms_message_not_found (receipt)")})
    def receive(self, request, provider=None):
        """An inbound SMS (`type: message`) or a delivery receipt (`type: receipt`) from an adapter.
        Idempotent on `carrier_message_id`: a repeated message is stored once (`duplicate`), a
        repeated receipt changes nothing (`unchanged`)."""
        found = self._provider(request, provider)
        data = self.body(s.InboundSerializer).validated_data
        if data["type"] == "message":
            message, created = services.inbound_receive(
                provider=found, carrier_message_id=data["carrier_message_id"], sender=data["from"], to=data["to"],
                text=data["text"])
            state = "stored" if created else "duplicate"
        else:
            message, changed = services.receipt_apply(
                provider=found, carrier_message_id=data["carrier_message_id"], status=data["status"],
                message_id=data.get("message_id", ""), error_code=data.get("error_code", ""),
                reason=data.get("reason", ""))
            state = "applied" if changed else "unchanged"
        return Response({"status": state, "message_id": message.message_id, "id": message.pk,
                         "tenant": message.tenant_slug})

    @extend_schema(
        request=s.InboundBatchSerializer, auth=[], operation_id="sms_inbound_batch",
        parameters=[KEY_HEADER, PROVIDER_PATH],
        responses={200: s.InboundBatchResultSerializer,
                   401: OpenApiResponse(description="invalid_provider_key, invalid_signature")})
    def receive_batch(self, request, provider=None):
        """Up to 100 inbound messages and receipts at once (what a busy adapter sends): each item is
        stored, or refused with its own problem in `results[i].error`, as if it had been posted
        alone; messages to one tenant commit together."""
        found = self._provider(request, provider)
        envelope = self.body(s.InboundBatchEnvelope)
        items, results = envelope.validated_data["items"], []
        valid, outcome_of = [], {}
        for index, item in enumerate(items):
            serializer = s.InboundSerializer(data=item)
            try:
                reject_unknown_fields(serializer, item)
                serializer.is_valid(raise_exception=True)
            except Exception as exc:  # this item's problem, not the request's
                outcome_of[index] = exc
                continue
            valid.append((index, serializer.validated_data))
        for (index, _), outcome in zip(valid, services.inbound_batch(provider=found, items=[d for _, d in valid])):
            outcome_of[index] = outcome
        for index in range(len(items)):
            outcome = outcome_of[index]
            if isinstance(outcome, Exception):
                code, detail, errors, status = _translate(outcome)
                results.append({"status": "error", "error": problem(code, detail, status=status, errors=errors)})
            else:
                message, state = outcome
                results.append({"status": state, "message_id": message.message_id, "id": message.pk,
                                "tenant": message.tenant_slug})
        return Response({"results": results})


class ZipRenderer(renderers.BaseRenderer):
    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class SmsAdapterViewSet(ApiViewSet):
    """The reference SMS adapters (Perl, Python, Node.js) as zip files."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [ZipRenderer]
    filter_backends: list = []

    @extend_schema(auth=[], operation_id="sms_adapter_download",
                   parameters=[OpenApiParameter("lang", str, OpenApiParameter.PATH, enum=sorted(adapters.LANGUAGES))],
                   responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def download(self, request, lang=None):
        """Download a reference adapter: README, program, tests (adapters/sms/<lang>/ of this portal)."""
        reject_unknown_params(request.query_params, ())
        response = HttpResponse(adapters.zip_of(lang), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="thirdlane-sms-adapter-{lang}.zip"'
        return response
