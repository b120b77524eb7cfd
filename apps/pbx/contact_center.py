"""Contact center: agent login/logout/pause/unpause, and the AMI actions that follow them.

The API action changes the agent's state through the telephony service (audit + the
``config.agent.updated`` event, in one transaction) and, once that commits, queues
``pbx.agent_queue_action`` which tells the tenant's primary server over AMI:

    login    QueueAdd    per queue the agent belongs to (Paused: false)
    logout   QueueRemove per queue
    pause    QueuePause  per queue, Paused: true, with the reason
    unpause  QueuePause  per queue, Paused: false

Interfaces and queue names are the ones the rendered configuration uses: ``PJSIP/<ext>-<tenant>``
and ``<tenant>-<queue number>`` (apps.pbx.render.names).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch

from apps.pbx.render import names
from apps.telephony.models import Agent, Queue, QueueMember
from thirdlane.api.errors import Conflict, DomainError

logger = logging.getLogger(__name__)

S = Agent.State


@dataclass(frozen=True)
class Transition:
    allowed_from: tuple[str, ...]
    to: str


TRANSITIONS = {
    "login": Transition((S.LOGGED_OUT,), S.LOGGED_IN),
    "logout": Transition((S.LOGGED_IN, S.PAUSED), S.LOGGED_OUT),
    "pause": Transition((S.LOGGED_IN,), S.PAUSED),
    "unpause": Transition((S.PAUSED,), S.LOGGED_IN),
}


# --- selectors -----------------------------------------------------------------------------------

def queue_summaries():
    """Queues with members, their extensions and agents: three queries whatever the size."""
    members = QueueMember.objects.select_related("extension", "agent__extension").order_by("penalty", "pk")
    return Queue.objects.prefetch_related(Prefetch("members", queryset=members))


def agent_summaries():
    memberships = QueueMember.objects.select_related("queue").order_by("queue__number")
    return Agent.objects.select_related("extension").prefetch_related(
        Prefetch("queue_memberships", queryset=memberships))


# --- the service ---------------------------------------------------------------------------------

def agent_action(*, actor, tenant, agent: Agent, action: str, reason: str = "") -> Agent:
    """Change ``agent``'s state (``action`` in TRANSITIONS) and queue the AMI actions."""
    from apps.telephony.services import agent_set_state

    transition = TRANSITIONS.get(action)
    if transition is None:
        raise DomainError(f"Unknown agent action {action!r}.", code="validation_error", field="action")
    with transaction.atomic():
        agent = Agent.objects.select_for_update(of=("self",)).select_related("extension").get(pk=agent.pk)
        if agent.state not in transition.allowed_from:
            raise Conflict(f"Agent {agent.name} is {agent.get_state_display().lower()}; cannot {action}.",
                           code="invalid_state", field="state")
        if action == "login":
            QueueMember.objects.filter(agent=agent, signed_out=True).update(signed_out=False)  # every queue
            if agent.extension_id is None:
                raise Conflict(f"Agent {agent.name} has no extension to ring.", code="agent_has_no_extension",
                               field="extension")
            if tenant.primary_server_id is None:
                raise Conflict(f"Tenant {tenant.slug} has no primary server.", code="no_primary_server")
        agent = agent_set_state(actor=actor, tenant=tenant, instance=agent, state=transition.to,
                                pause_reason=reason[:100] if action == "pause" else "")
        if tenant.primary_server_id is not None:
            tenant_id, agent_id = tenant.pk, agent.pk

            def enqueue():
                from apps.pbx.tasks import agent_queue_action

                try:
                    agent_queue_action.delay(tenant_id, agent_id, action, reason[:100])
                except Exception:  # state is saved; the next login/pause resends, the admin can retry
                    logger.warning("could not queue the AMI %s of agent %s", action, agent_id, exc_info=True)

            transaction.on_commit(enqueue)
    return agent


def agent_queue_code(*, actor, tenant, agent: Agent, action: str, queue: str) -> Agent:
    """An agent logs into or out of one of its queues (a feature code + the queue number).

    Logging into a queue while logged out logs the agent in for that queue only (its other
    memberships are signed out); logging out of its last queue logs it out. The AMI action goes to
    that queue only. Pausing stays per agent (one state, every queue it is in).
    """
    from apps.telephony.services import agent_set_state

    if action not in ("login", "logout"):
        raise DomainError(f"{action} is not per queue.", code="validation_error", field="action")
    with transaction.atomic():
        agent = Agent.objects.select_for_update(of=("self",)).select_related("extension").get(pk=agent.pk)
        membership = QueueMember.objects.filter(agent=agent, queue__number=queue).first()
        if membership is None:
            raise Conflict(f"Agent {agent.name} is not a member of queue {queue}.", code="not_a_queue_member",
                           field="queue")
        if action == "login":
            if agent.extension_id is None:
                raise Conflict(f"Agent {agent.name} has no extension to ring.", code="agent_has_no_extension",
                               field="extension")
            if tenant.primary_server_id is None:
                raise Conflict(f"Tenant {tenant.slug} has no primary server.", code="no_primary_server")
            if agent.state == S.LOGGED_OUT:
                QueueMember.objects.filter(agent=agent).exclude(pk=membership.pk).update(signed_out=True)
                agent = agent_set_state(actor=actor, tenant=tenant, instance=agent, state=S.LOGGED_IN)
            QueueMember.objects.filter(pk=membership.pk).update(signed_out=False)
        else:
            QueueMember.objects.filter(pk=membership.pk).update(signed_out=True)
            if agent.state != S.LOGGED_OUT and not QueueMember.objects.filter(agent=agent, signed_out=False).exists():
                agent = agent_set_state(actor=actor, tenant=tenant, instance=agent, state=S.LOGGED_OUT)
        if tenant.primary_server_id is not None:
            tenant_id, agent_id = tenant.pk, agent.pk

            def enqueue():
                from apps.pbx.tasks import agent_queue_action

                try:
                    agent_queue_action.delay(tenant_id, agent_id, action, "", queue)
                except Exception:
                    logger.warning("could not queue the AMI %s of agent %s in %s", action, agent_id, queue,
                                   exc_info=True)

            transaction.on_commit(enqueue)
    return agent


# --- what the task sends -------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueAction:
    action: str  # login | logout | pause | unpause
    queue: str
    interface: str
    penalty: int
    member_name: str
    reason: str = ""


def planned_actions(tenant, agent: Agent, action: str, reason: str = "", queue: str = "") -> list[QueueAction]:
    """One AMI action per queue the agent belongs to (needs the tenant's schema active): the
    queues it has not signed out of, or only ``queue`` (a queue number: the per-queue codes)."""
    if agent.extension_id is None:
        return []
    from apps.pbx.render import text

    iface = names.interface(agent.extension.number, tenant.slug)
    memberships = QueueMember.objects.filter(agent=agent).select_related("queue").order_by("queue__number")
    if queue:
        memberships = memberships.filter(queue__number=queue)
    elif action != "logout":
        memberships = memberships.filter(signed_out=False)
    return [QueueAction(action, names.queue(m.queue.number, tenant.slug), iface, m.penalty,
                        text.callerid_name(agent.name), reason) for m in memberships]


# AMI answers to an action that is already true: not failures.
ALREADY = {"login": "already there", "logout": "not there"}


def send(ami, item: QueueAction) -> str:
    """Send one action on a logged-in AmiConnection; returns "ok", "already" or raises."""
    from apps.pbx.ami import AmiActionError

    try:
        if item.action == "login":
            ami.queue_add(item.queue, item.interface, penalty=item.penalty, member_name=item.member_name,
                          paused=False)
        elif item.action == "logout":
            ami.queue_remove(item.queue, item.interface)
        else:
            ami.queue_pause(item.queue, item.interface, item.action == "pause",
                            reason=(item.reason or None) if item.action == "pause" else None)
    except AmiActionError as exc:
        if ALREADY.get(item.action, "\0") in str(exc).lower():
            return "already"
        raise
    return "ok"


# --- keeping the PBX's dynamic members in line after a push ---------------------------------------

@dataclass(frozen=True)
class ExpectedMember:
    interface: str
    penalty: int
    name: str
    paused: bool
    reason: str = ""


def expected_members(views) -> dict[str, list[ExpectedMember]]:
    """Queue name -> the agents that should be its dynamic members, from rendered tenant views
    (logged-in or paused agents with an extension, in every queue they belong to). Every queue of
    those tenants is listed, with no members when none should be there."""
    from apps.pbx.render import text

    plan: dict[str, list[ExpectedMember]] = {}
    for view in views:
        for queue in view.queues:
            members = plan.setdefault(view.queue_name(queue), [])
            for member in view.members.get(queue["id"], []):
                agent = view.agent_by_id.get(member["agent_id"]) if member["agent_id"] else None
                if agent is None or agent["state"] not in (S.LOGGED_IN, S.PAUSED) or member.get("signed_out"):
                    continue
                ext = view.ext_by_id.get(agent["extension_id"])
                if ext is None:
                    continue
                members.append(ExpectedMember(names.interface(ext["number"], view.slug), int(member["penalty"]),
                                              text.callerid_name(agent["name"]), agent["state"] == S.PAUSED,
                                              agent["pause_reason"] or ""))
    return plan


def sync_queue_members(ami, plan: dict[str, list[ExpectedMember]]) -> list[str]:
    """Make each queue's dynamic members what ``plan`` says: QueueStatus, then QueueRemove the
    ones that should not be there, QueueAdd the missing, QueuePause where the pause differs.
    Static members (extensions in queues.conf) are left alone. Returns what was done."""
    from apps.pbx.ami import AmiActionError

    done = []
    for queue in sorted(plan):
        status = ami.action("QueueStatus", Queue=queue)
        current = {e.get("Location"): e for e in status.events
                   if e.name == "QueueMember" and (e.get("Membership") or "").lower() == "dynamic"}
        expected = {m.interface: m for m in plan[queue]}
        for iface in sorted(set(current) - set(expected)):
            try:
                ami.queue_remove(queue, iface)
                done.append(f"{queue}:remove:{iface}")
            except AmiActionError:
                pass  # gone meanwhile
        for iface in sorted(expected):
            member = expected[iface]
            if iface not in current:
                ami.queue_add(queue, iface, penalty=member.penalty, member_name=member.name,
                              paused=member.paused, reason=(member.reason or None) if member.paused else None)
                done.append(f"{queue}:add:{iface}")
            elif (current[iface].get("Paused") == "1") != member.paused:
                ami.queue_pause(queue, iface, member.paused,
                                reason=(member.reason or None) if member.paused else None)
                done.append(f"{queue}:{'pause' if member.paused else 'unpause'}:{iface}")
    return done
