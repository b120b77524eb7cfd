"""/api/call-control/<tenant>/: click-to-call, hangup, transfers and queue pause as jobs.

    POST /api/call-control/<tenant>/<action>/     202 + Location: /api/call-control/<tenant>/jobs/<id>/
    GET  /api/call-control/<tenant>/jobs/[<id>/]  the jobs: status, result, the PBX's answer
    GET  /api/call-control/<tenant>/              the actions and whether this tenant's PBX offers them

The checks and the job live in apps.calls.control; the AMI side in apps.calls.control_ami.
"""
from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.calls import control
from apps.calls.models import CallControlJob
from thirdlane.api.errors import NotFound
from thirdlane.api.viewsets import TenantScopedViewSet

A = CallControlJob.Action
_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")


class CallControlJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallControlJob
        fields = ("id", "action", "status", "parameters", "result", "ami_response", "error_code", "error_message",
                  "attempts", "requested_by", "created_at", "started_at", "finished_at")
        read_only_fields = fields


class OriginateSerializer(serializers.Serializer):
    extension = serializers.CharField(max_length=8, help_text="The extension whose phone rings first.")
    number = serializers.CharField(max_length=32, help_text="What it then dials (internal number or external).")
    caller_id = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                      help_text="Outbound caller ID: one of the tenant's DIDs or extension numbers. "
                                                "Default: the extension's own rules.")
    ring_timeout = serializers.IntegerField(min_value=5, max_value=120, required=False,
                                            help_text="Seconds the extension rings (default: its ring time).")


class ChannelSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=128, help_text="A channel of a call in progress "
                                                              "(GET /api/calls/<tenant>/active/).")


class TransferSerializer(ChannelSerializer):
    destination = serializers.CharField(max_length=32, help_text="Extension, queue, IVR or external number.")


class CallQueueMemberSerializer(serializers.Serializer):
    extension = serializers.CharField(max_length=8, help_text="The member's extension (or an agent's).")
    queue = serializers.CharField(max_length=8, required=False, allow_blank=True, default="",
                                  help_text="Queue number; empty: every queue the extension is in.")


class QueuePauseSerializer(CallQueueMemberSerializer):
    reason = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_reason(self, value: str) -> str:
        if not _ONE_LINE.match(value):
            raise serializers.ValidationError("Control characters (line breaks, tabs) are not allowed.")
        return value


class CallControlActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    method = serializers.CharField()
    path = serializers.CharField()
    supported = serializers.BooleanField()
    description = serializers.CharField()


class CallControlJobViewSet(TenantScopedViewSet):
    """Call-control jobs, newest first: queued, running, then succeeded or failed with a code."""

    queryset = CallControlJob.objects.all()
    serializer_class = CallControlJobSerializer
    filterset_fields = ("action", "status")
    ordering_fields = ("created_at", "id")
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "head", "options"]


def _accepted(view, job: CallControlJob) -> Response:
    location = f"/api/call-control/{view.tenant.slug}/jobs/{job.pk}/"
    data = CallControlJobSerializer(job, context=view.get_serializer_context()).data
    return Response(data, status=202, headers={"Location": location})


ACCEPTED = {202: OpenApiResponse(CallControlJobSerializer, "Queued; the job's URL is in Location.")}
CATALOGUE = [
    ("originate", A.ORIGINATE, "Click-to-call: ring the extension's phone, then dial the number from it."),
    ("hangup", A.HANGUP, "Hang up a channel of a call in progress."),
    ("blind-transfer", A.BLIND_TRANSFER, "Send a channel to an extension or number (AMI Redirect)."),
    ("attended-transfer", A.ATTENDED_TRANSFER, "Start an attended transfer from a channel (AMI Atxfer)."),
    ("queue-pause", A.QUEUE_PAUSE, "Pause a queue member, with a reason."),
    ("queue-unpause", A.QUEUE_UNPAUSE, "Resume a paused queue member."),
    ("hold", None, control.UNSUPPORTED["hold"]),
    ("park", None, control.UNSUPPORTED["park"]),
]


class CallControlViewSet(TenantScopedViewSet):
    """Call control: each action is a job run by a worker over AMI (202 + Location of the job)."""

    queryset = CallControlJob.objects.none()
    serializer_class = CallControlActionSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(responses=CallControlActionSerializer(many=True))
    def list(self, request, *args, **kwargs):
        """The actions, their paths, and whether this tenant's PBX offers them."""
        items = [{"action": name, "method": "POST", "path": f"/api/call-control/{self.tenant.slug}/{name}/",
                  "supported": job_action is not None, "description": text} for name, job_action, text in CATALOGUE]
        return self.paginated(items, CallControlActionSerializer)

    def retrieve(self, request, *args, **kwargs):
        raise NotFound()

    def _request(self, job_action: str, serializer_class) -> Response:
        body = self.body(serializer_class)
        job = control.call_control_request(actor=self.principal, tenant=self.tenant, action=job_action,
                                           **body.validated_data)
        return _accepted(self, job)

    @extend_schema(request=OriginateSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"])
    def originate(self, request, tenant=None):
        """Click-to-call: ring `extension`'s phone; when it answers, dial `number` through the tenant's
        dialplan (its outbound routes and caller-ID rules). The job ends when the phone answered
        (succeeded) or did not (failed: busy, no_answer, extension_unavailable ...)."""
        return self._request(A.ORIGINATE, OriginateSerializer)

    @extend_schema(request=ChannelSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"])
    def hangup(self, request, tenant=None):
        """Hang up a channel of one of the tenant's calls in progress."""
        return self._request(A.HANGUP, ChannelSerializer)

    @extend_schema(request=TransferSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"], url_path="blind-transfer")
    def blind_transfer(self, request, tenant=None):
        """Send `channel` (usually the other party) to `destination` in the tenant's dialplan."""
        return self._request(A.BLIND_TRANSFER, TransferSerializer)

    @extend_schema(request=TransferSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"], url_path="attended-transfer")
    def attended_transfer(self, request, tenant=None):
        """`channel` (the transferring party) consults `destination` before completing the transfer."""
        return self._request(A.ATTENDED_TRANSFER, TransferSerializer)

    @extend_schema(request=QueuePauseSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"], url_path="queue-pause")
    def queue_pause(self, request, tenant=None):
        """Pause a member (an extension, or an agent's extension) in one queue or in all of its queues."""
        return self._request(A.QUEUE_PAUSE, QueuePauseSerializer)

    @extend_schema(request=CallQueueMemberSerializer, responses=ACCEPTED)
    @action(detail=False, methods=["post"], url_path="queue-unpause")
    def queue_unpause(self, request, tenant=None):
        """Resume a paused member."""
        return self._request(A.QUEUE_UNPAUSE, CallQueueMemberSerializer)

    @extend_schema(request=None, responses={409: OpenApiResponse(description="not_supported_by_dialplan")})
    @action(detail=False, methods=["post"])
    def hold(self, request, tenant=None):
        """Not offered: AMI has no hold action (a phone holds its own call). Always 409."""
        control.refuse_unsupported(tenant=self.tenant, action="hold")

    @extend_schema(request=None, responses={409: OpenApiResponse(description="not_supported_by_dialplan")})
    @action(detail=False, methods=["post"])
    def park(self, request, tenant=None):
        """Not offered: the tenant's dialplan has no parking lot. Always 409."""
        control.refuse_unsupported(tenant=self.tenant, action="park")
