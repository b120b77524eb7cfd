"""Celery tasks of the PBX app. Each takes ids, loads what it needs and owns its retry policy."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)


def retry_delay(retries: int) -> float:
    """Exponential backoff with 10% jitter: base, 2*base, 4*base ... capped."""
    base = float(getattr(settings, "PBX_APPLY_RETRY_BASE", 5.0))
    cap = float(getattr(settings, "PBX_APPLY_RETRY_MAX", 600.0))
    delay = min(cap, base * (2 ** retries))
    return round(delay + random.uniform(0, delay * 0.1), 2)


@shared_task(bind=True, name="pbx.apply_config", max_retries=None, ignore_result=True)
def apply_config(self, server_id: int, push_id: int | None = None) -> str:
    """Render, write and reload ``server_id``'s configuration, recorded on ConfigPush ``push_id``
    (created when not given). Retries with exponential backoff while the server is unreachable,
    up to PBX_APPLY_MAX_RETRIES; then the push fails (``server.config_failed`` event)."""
    from apps.pbx import apply
    from apps.pbx.models import ConfigPush

    connection.set_schema_to_public()
    if push_id is None:
        push = ConfigPush.objects.create(server_id=server_id, requested_by="task")
    else:
        push = ConfigPush.objects.filter(pk=push_id, server_id=server_id).first()
        if push is None or push.finished:
            return "gone"
    max_retries = int(getattr(settings, "PBX_APPLY_MAX_RETRIES", 8))
    try:
        apply.run_push(push)
    except apply.ServerBusy:
        # Not a failure of this push: wait for the other one, without using up retries.
        raise self.retry(args=(server_id, push.pk), countdown=5, max_retries=None)
    except apply.Unreachable as exc:
        if self.request.retries >= max_retries:
            apply.finish(push, ok=False, error=f"gave up after {push.attempts} attempts: {exc}")
            return push.status
        delay = retry_delay(self.request.retries)
        apply._set(push, status=push.Status.RETRYING, error=str(exc)[:2000],
                   stage=f"server unreachable; retry {self.request.retries + 1}/{max_retries} in {delay:.0f}s")
        logger.warning("config push %s to server %s: %s; retrying in %.0fs", push.pk, server_id, exc, delay)
        raise self.retry(args=(server_id, push.pk), countdown=delay, max_retries=None)
    return push.status


@shared_task(name="pbx.start_queued_pushes", ignore_result=True)
def start_queued_pushes() -> int:
    """Beat: start pushes left ``queued`` (the broker was down when they were requested)."""
    from apps.pbx.models import ConfigPush

    connection.set_schema_to_public()
    stale = timezone.now() - timedelta(minutes=2)
    started = 0
    for push in ConfigPush.objects.filter(status=ConfigPush.Status.QUEUED, created_at__lt=stale).order_by("pk")[:100]:
        apply_config.delay(push.server_id, push.pk)
        started += 1
    return started


@shared_task(bind=True, name="pbx.agent_queue_action", max_retries=None, ignore_result=True)
def agent_queue_action(self, tenant_id: int, agent_id: int, action: str, reason: str = "",
                       queue: str = "") -> list[str]:
    """Tell the tenant's primary server about an agent's login/logout/pause/unpause.

    Skipped when the agent's state has moved on since (a later task carries the newer state).
    Retries with backoff while the server is unreachable (PBX_AGENT_ACTION_MAX_RETRIES).
    """
    from django_tenants.utils import schema_context

    from apps.pbx import apply, contact_center
    from apps.pbx.ami import AmiActionError, AmiAuthError, AmiError
    from apps.telephony.models import Agent
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    tenant = Tenant.objects.select_related("primary_server").filter(pk=tenant_id).first()
    if tenant is None or tenant.primary_server is None:
        return []
    with schema_context(tenant.schema_name):
        agent = Agent.objects.select_related("extension").filter(pk=agent_id).first()
        if queue and agent is not None:  # one queue (a per-queue code): stale if its membership moved on
            stale = not agent.queue_memberships.filter(queue__number=queue,
                                                       signed_out=(action == "logout")).exists()
        else:
            stale = agent is None or agent.state != contact_center.TRANSITIONS[action].to
        if agent is None or stale:
            logger.info("agent %s: %s is stale (state now %s); skipped", agent_id, action,
                        agent.state if agent else "deleted")
            return []
        plan = contact_center.planned_actions(tenant, agent, action, reason, queue)
    if not plan:
        return []
    results = []
    try:
        with apply.connect(tenant.primary_server) as ami:
            for item in plan:
                try:
                    results.append(f"{item.queue}:{contact_center.send(ami, item)}")
                except AmiActionError as exc:  # one queue refusing must not stop the others
                    logger.warning("agent %s %s in %s refused: %s", agent_id, action, item.queue, exc)
                    results.append(f"{item.queue}:refused")
    except AmiAuthError:
        logger.error("AMI login refused by %s; agent %s %s not sent", tenant.primary_server.name, agent_id, action)
        return results
    except AmiError as exc:
        max_retries = int(getattr(settings, "PBX_AGENT_ACTION_MAX_RETRIES", 5))
        if self.request.retries >= max_retries:
            logger.error("agent %s %s: server %s unreachable, gave up: %s", agent_id, action,
                         tenant.primary_server.name, exc)
            return results
        raise self.retry(countdown=retry_delay(self.request.retries), max_retries=None)
    return results


@shared_task(name="pbx.push_changed_servers", ignore_result=True)
def push_changed_servers() -> list[int]:
    """Beat: queue a push for each active server whose tenants' configuration changed (a
    ``config.*`` or ``tenant.*`` event) since its last push, unless one is already pending.
    Off with PBX_AUTO_APPLY = False (then pushes are only requested through the API/admin)."""
    if not getattr(settings, "PBX_AUTO_APPLY", True):
        return []
    from django.db.models import Exists, Max, OuterRef, Q

    from apps.accounts.principal import Principal
    from apps.events.models import OutboxEvent
    from apps.pbx.models import ConfigPush, Server
    from apps.pbx.services import config_push_request
    from apps.tenants.models import Tenant

    connection.set_schema_to_public()
    pending = ConfigPush.objects.filter(server=OuterRef("pk"), status__in=[
        ConfigPush.Status.QUEUED, ConfigPush.Status.RUNNING, ConfigPush.Status.RETRYING])
    servers = (Server.objects.filter(is_active=True).annotate(last=Max("pushes__created_at"))
               .filter(~Exists(pending)).order_by("pk"))
    queued = []
    for server in servers:
        # The tenants it hosts now, and those its last push rendered (moved away or suspended since).
        last = ConfigPush.objects.filter(server=server).exclude(tenant_ids=[]).order_by("-created_at", "-id").first()
        tenant_ids = set(Tenant.objects.filter(primary_server=server).values_list("pk", flat=True))
        tenant_ids |= set(last.tenant_ids if last else [])
        changes = OutboxEvent.objects.filter(Q(type__startswith="config.") | Q(type__startswith="tenant."),
                                             tenant_id__in=tenant_ids)
        if server.last is not None:
            changes = changes.filter(occurred_at__gt=server.last)
        if changes.exists():
            queued.append(config_push_request(actor=Principal.system("auto-apply"), server=server).pk)
    return queued


@shared_task(name="pbx.prune_pushes", ignore_result=True)
def prune_pushes() -> int:
    """Beat: forget finished pushes older than PBX_PUSH_RETENTION_DAYS (90), keeping each
    server's latest 20 whatever their age."""
    from apps.pbx.models import ConfigPush, Server

    connection.set_schema_to_public()
    cutoff = timezone.now() - timedelta(days=int(getattr(settings, "PBX_PUSH_RETENTION_DAYS", 90)))
    deleted = 0
    for server_id in Server.objects.values_list("pk", flat=True):
        keep = ConfigPush.objects.filter(server_id=server_id).order_by("-created_at", "-id").values("pk")[:20]
        deleted += ConfigPush.objects.filter(server_id=server_id, created_at__lt=cutoff,
                                             status__in=ConfigPush.FINISHED).exclude(pk__in=keep).delete()[0]
    return deleted
