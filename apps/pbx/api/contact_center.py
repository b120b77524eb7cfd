"""/api/contact-center/<tenant>/: an overview, queues with members and agent states, agents with
their queues, and the agent actions login / logout / pause / unpause (which reach the PBX through
AMI, see apps.pbx.contact_center)."""
from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.pbx import contact_center
from apps.pbx.render import names
from apps.telephony.models import Agent, Queue
from thirdlane.api.viewsets import TenantScopedViewSet


def _slug(serializer) -> str:
    return serializer.context["tenant"].slug


class MemberSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["extension", "agent"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    extension = serializers.CharField(allow_null=True, help_text="Extension number rung.")
    interface = serializers.CharField(allow_null=True, help_text="Queue member interface on the PBX.")
    penalty = serializers.IntegerField()
    state = serializers.CharField(help_text="static (extension members) or the agent's state.")
    pause_reason = serializers.CharField(allow_blank=True)


class QueueSummarySerializer(serializers.ModelSerializer):
    asterisk_queue = serializers.SerializerMethodField(help_text="The queue's name on the PBX.")
    members = serializers.SerializerMethodField()
    stats = serializers.SerializerMethodField()

    class Meta:
        model = Queue
        fields = ("id", "number", "name", "strategy", "asterisk_queue", "members", "stats")

    def get_asterisk_queue(self, queue) -> str:
        return names.queue(queue.number, _slug(self))

    def _members(self, queue) -> list[dict]:
        slug, out = _slug(self), []
        for m in queue.members.all():
            if m.extension_id:
                ext = m.extension
                out.append({"type": "extension", "id": ext.pk, "name": ext.name, "extension": ext.number,
                            "interface": names.interface(ext.number, slug), "penalty": m.penalty,
                            "state": "static", "pause_reason": ""})
            else:
                agent, ext = m.agent, m.agent.extension
                out.append({"type": "agent", "id": agent.pk, "name": agent.name,
                            "extension": ext.number if ext else None,
                            "interface": names.interface(ext.number, slug) if ext else None, "penalty": m.penalty,
                            "state": agent.state, "pause_reason": agent.pause_reason})
        return out

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, queue) -> list[dict]:
        return self._members(queue)

    def get_stats(self, queue) -> dict:
        members = self._members(queue)
        agents = [m for m in members if m["type"] == "agent"]
        return {"members": len(members), "static_members": len(members) - len(agents),
                "agents_logged_in": sum(m["state"] == Agent.State.LOGGED_IN for m in agents),
                "agents_paused": sum(m["state"] == Agent.State.PAUSED for m in agents),
                "agents_logged_out": sum(m["state"] == Agent.State.LOGGED_OUT for m in agents)}


class AgentSummarySerializer(serializers.ModelSerializer):
    extension = serializers.SerializerMethodField()
    interface = serializers.SerializerMethodField()
    queues = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = ("id", "name", "extension", "interface", "state", "pause_reason", "state_changed_at", "queues")

    def get_extension(self, agent) -> dict | None:
        ext = agent.extension
        return {"id": ext.pk, "number": ext.number, "name": ext.name} if ext else None

    def get_interface(self, agent) -> str | None:
        return names.interface(agent.extension.number, _slug(self)) if agent.extension_id else None

    def get_queues(self, agent) -> list[dict]:
        slug = _slug(self)
        return [{"id": m.queue.pk, "number": m.queue.number, "name": m.queue.name,
                 "asterisk_queue": names.queue(m.queue.number, slug), "penalty": m.penalty}
                for m in agent.queue_memberships.all()]


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class _ReadOnly(TenantScopedViewSet):
    http_method_names = ["get", "head", "options"]


class ContactCenterQueueViewSet(_ReadOnly):
    """Queues with their members: static extensions and agents with their live state."""

    queryset = contact_center.queue_summaries()
    serializer_class = QueueSummarySerializer
    search_fields = ("name", "number")
    ordering_fields = ("number", "name")
    ordering = ("number",)


class ContactCenterAgentViewSet(TenantScopedViewSet):
    """Agents with their state and queues; ``POST .../<id>/login|logout|pause|unpause``."""

    queryset = contact_center.agent_summaries()
    serializer_class = AgentSummarySerializer
    filterset_fields = ("state",)
    search_fields = ("name",)
    ordering_fields = ("name", "state", "state_changed_at")
    ordering = ("name",)
    http_method_names = ["get", "post", "head", "options"]

    def _act(self, request, name: str, reason: str = ""):
        agent = contact_center.agent_action(actor=self.principal, tenant=self.tenant, agent=self.get_object(),
                                            action=name, reason=reason)
        agent = self.get_queryset().get(pk=agent.pk)
        return Response(self.get_serializer(agent).data, status=202)

    @extend_schema(request=None, responses={202: AgentSummarySerializer})
    @action(detail=True, methods=["post"])
    def login(self, request, tenant=None, pk=None):
        """Log the agent in: it joins its queues on the PBX (AMI QueueAdd, sent by a task)."""
        return self._act(request, "login")

    @extend_schema(request=None, responses={202: AgentSummarySerializer})
    @action(detail=True, methods=["post"])
    def logout(self, request, tenant=None, pk=None):
        """Log the agent out: it leaves its queues (AMI QueueRemove)."""
        return self._act(request, "logout")

    @extend_schema(request=PauseSerializer, responses={202: AgentSummarySerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, tenant=None, pk=None):
        """Pause the agent in its queues, with an optional reason (AMI QueuePause)."""
        body = self.body(PauseSerializer)
        return self._act(request, "pause", body.validated_data["reason"])

    @extend_schema(request=None, responses={202: AgentSummarySerializer})
    @action(detail=True, methods=["post"])
    def unpause(self, request, tenant=None, pk=None):
        """Resume taking calls (AMI QueuePause with Paused: false)."""
        return self._act(request, "unpause")


@extend_schema_serializer(many=False)  # the overview is one object, not a paginated list
class OverviewSerializer(serializers.Serializer):
    queues = serializers.IntegerField()
    agents = serializers.DictField(child=serializers.IntegerField())
    primary_server = serializers.CharField(allow_null=True)


class ContactCenterViewSet(_ReadOnly):
    """``GET /api/contact-center/<tenant>/``: counts of queues and agents by state."""

    queryset = Agent.objects.none()
    serializer_class = OverviewSerializer
    pagination_class = None

    @extend_schema(responses=OverviewSerializer)
    def list(self, request, *args, **kwargs):
        counts = Agent.objects.aggregate(**{state: Count("pk", filter=Q(state=state)) for state in Agent.State.values})
        server = self.tenant.primary_server
        return Response({"queues": Queue.objects.count(), "agents": counts,
                         "primary_server": server.name if server else None})

    @classmethod
    def offers(cls, action: str) -> bool:
        # The overview is one object without an id: no /<id>/ route (nor one in the document).
        return action != "retrieve" and super().offers(action)
