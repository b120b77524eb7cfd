"""The agent state history's one writer, called by the agent state service.

Telephony calls ``agent_state_record`` and knows nothing else of this app: the service passes the
agent after its change and what it was before; this function decides whether that is a change
worth a row (state or pause reason differ) and writes it in the caller's transaction.
"""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def agent_state_record(*, agent, previous_state: str | None, previous_reason: str = "",
                       previous_extension_id: int | None = None, source: str = "api",
                       at: datetime | None = None) -> bool:
    """Log ``agent``'s current state if it differs from ``previous_state``/``previous_reason``, or
    if the agent moved to another extension (statistics join calls by extension number)
    (``previous_state=None``: a new agent, logged unless it starts logged out). Returns whether a
    row was written."""
    from apps.reports.models import AgentStateChange

    state, reason = agent.state, agent.pause_reason or ""
    if previous_state is None and state == AgentStateChange.State.LOGGED_OUT:
        return False
    moved = previous_state is not None and previous_extension_id != agent.extension_id
    if previous_state == state and (previous_reason or "") == reason and not moved:
        return False
    extension = ""
    if getattr(agent, "extension_id", None):
        extension = agent.extension.number
    AgentStateChange.objects.create(
        agent_id=agent.pk, extension=extension, state=state, pause_reason=reason[:100],
        at=at or (timezone.now() if moved and previous_state == state else agent.state_changed_at) or timezone.now(),
        source=source if source in AgentStateChange.Source.values else AgentStateChange.Source.SYSTEM)
    return True
