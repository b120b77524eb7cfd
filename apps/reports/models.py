"""What statistics need besides the call records (tenant app: in each tenant's schema).

Agent state lives on ``telephony.Agent`` as the current value only; logged-in and pause time need
its history. ``AgentStateChange`` is that history: one row per real change of an agent's state or
pause reason, written by the agent state service (``apps.telephony.services.queues``) through
``apps.reports.agent_log.agent_state_record`` in the transaction that changes the agent. A row
holds the state the agent is in *from* ``at`` until the agent's next row.
"""
from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class AgentStateChange(models.Model):
    class State(models.TextChoices):
        LOGGED_IN = "logged_in", "Logged in"
        LOGGED_OUT = "logged_out", "Logged out"
        PAUSED = "paused", "Paused"

    class Source(models.TextChoices):
        API = "api", "API or admin"
        PBX = "pbx", "PBX (queue member events)"
        SYSTEM = "system", "System"

    # No foreign key: the history outlives the agent (a deleted agent keeps its past statistics),
    # and the telephony tables do not depend on this app.
    agent_id = models.BigIntegerField(help_text="telephony Agent id.")
    extension = models.CharField(max_length=32, blank=True,
                                 help_text="The agent's extension number at the time (what call records name).")
    state = models.CharField(max_length=12, choices=State.choices)
    pause_reason = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["agent_id", "at"]), models.Index(fields=["at"])]
        verbose_name = "agent state change"

    def __str__(self) -> str:
        return f"agent {self.agent_id} {self.state} at {self.at:%Y-%m-%d %H:%M:%S}"


class QueueCall(models.Model):
    """What agent statistics count of one ended queue call, written once when the call ends.

    Worked out from the call and its members' legs by ``apps.reports.sql.queue_call_rows`` (the
    same statement statistics run for calls still up) in the transaction that ends the call
    (``apps.reports.queue_calls.record``), so a month of statistics reads one narrow row per call
    instead of folding every call's legs again. No foreign key: like the state history, it holds
    no numbers and outlives call-record retention (statistics for a year, call records for 90 days).
    """

    call_id = models.BigIntegerField(unique=True, help_text="calls Call id.")
    joined_at = models.DateTimeField(help_text="When the caller joined the queue: the bucket the call counts in.")
    queue = models.CharField(max_length=32)
    agent = models.CharField(max_length=32, blank=True, help_text="The answering extension; empty when unanswered.")
    members = ArrayField(models.CharField(max_length=32), default=list,
                         help_text="Every extension rung for the call (each once), the agent included.")
    talk = models.FloatField(null=True, help_text="The agent's talk seconds (connected less hold).")
    hold = models.FloatField(null=True)
    wrapup = models.IntegerField(null=True, help_text="The queue's wrap-up seconds when the call ended.")
    wait = models.FloatField(null=True, help_text="Seconds from joining the queue to the agent's answer.")

    class Meta:
        indexes = [models.Index(fields=["joined_at"])]
        verbose_name = "queue call summary"
        verbose_name_plural = "queue call summaries"

    def __str__(self) -> str:
        return f"queue {self.queue} call {self.call_id}"
