"""Call records of one tenant (tenant app: these tables live in each tenant's schema).

One ``Call`` per call as the PBX links it (Asterisk's ``Linkedid``: every channel of a call,
including the ones a transfer or a queue adds, shares it), with one ``CallLeg`` per channel. A call
is written when it starts ringing and updated as it is answered and ends, so calls in progress are
rows too: that is what survives a listener restart (``status`` not ``ended``).

Identity is ``(server_id, linkedid)``: a linked id is unique on one Asterisk, and a replayed or
duplicated event finds the row it already made instead of making another.
"""
from __future__ import annotations

from django.db import models


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"
        INTER_SITE = "inter_site", "Inter-site"

    class Status(models.TextChoices):
        RINGING = "ringing", "Ringing"
        ANSWERED = "answered", "Answered"
        ENDED = "ended", "Ended"

    class Disposition(models.TextChoices):
        ANSWERED = "answered", "Answered"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"
        VOICEMAIL = "voicemail", "Voicemail"

    server_id = models.BigIntegerField(help_text="The PBX server (public pbx_server.id).")
    linkedid = models.CharField(max_length=64)
    direction = models.CharField(max_length=16, choices=Direction.choices, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RINGING, db_index=True)
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=128, blank=True)
    callee_number = models.CharField(max_length=64, blank=True)
    callee_name = models.CharField(max_length=128, blank=True)
    did = models.CharField(max_length=32, blank=True, db_index=True, help_text="The DID dialled (E.164).")
    trunk = models.CharField(max_length=64, blank=True, help_text="PBX name of the trunk the call crossed.")
    extensions = models.JSONField(default=list, blank=True, help_text="Extensions involved, in order.")
    queue = models.CharField(max_length=32, blank=True, db_index=True, help_text="Queue number.")
    agent = models.CharField(max_length=32, blank=True, db_index=True,
                             help_text="Extension number of the agent or member who took the call.")
    ivr_path = models.JSONField(default=list, blank=True, help_text="IVRs and time conditions passed, in order.")
    disposition = models.CharField(max_length=16, choices=Disposition.choices, blank=True, db_index=True)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)
    hangup_cause_text = models.CharField(max_length=64, blank=True)
    recording = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds from start to end.")
    billsec = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds from answer to end.")
    queue_joined_at = models.DateTimeField(null=True, blank=True)
    queue_left_at = models.DateTimeField(null=True, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True, help_text="The CRM contact the caller matched.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["server_id", "linkedid"], name="call_server_linkedid")]
        indexes = [models.Index(fields=["status", "started_at"]),
                   # Statistics (apps.reports): queue calls by the time they were offered, and the
                   # calls still up at the start of a range (concurrency).
                   models.Index(fields=["queue_joined_at"], condition=~models.Q(queue_joined_at=None),
                                name="call_queue_joined_at"),
                   models.Index(fields=["ended_at"], name="call_ended_at"),
                   # Statistics work out calls still up from their legs (ended ones are summarised).
                   models.Index(fields=["queue_joined_at"], condition=~models.Q(status="ended"),
                                name="call_live_queue_joined_at")]

    def __str__(self) -> str:
        return f"{self.caller_number or '?'} → {self.callee_number or '?'} ({self.started_at:%Y-%m-%d %H:%M})"


class CallLeg(models.Model):
    class Kind(models.TextChoices):
        EXTENSION = "extension", "Extension"
        TRUNK = "trunk", "Trunk"
        LOCAL = "local", "Local"
        OTHER = "other", "Other"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="legs")
    uniqueid = models.CharField(max_length=64)
    channel = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    endpoint = models.CharField(max_length=80, blank=True, help_text="PJSIP endpoint (1001-acme, acme-trunk-2).")
    extension = models.CharField(max_length=32, blank=True)
    caller_number = models.CharField(max_length=64, blank=True)
    caller_name = models.CharField(max_length=128, blank=True)
    connected_number = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True)
    hangup_cause_text = models.CharField(max_length=64, blank=True)
    held = models.BooleanField(default=False)
    # Hold time of this channel (Hold/Unhold events): completed holds in seconds, and the start of
    # a hold still in progress. Agent statistics read them (apps.reports).
    hold_seconds = models.PositiveIntegerField(default=0, help_text="Seconds on hold, completed holds.")
    held_since = models.DateTimeField(null=True, blank=True, help_text="Start of the hold in progress.")

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "uniqueid"], name="call_leg_uniqueid")]
        # Agent statistics (apps.reports) read the members' legs of a range's queue calls by their start.
        indexes = [models.Index(fields=["started_at"], condition=models.Q(kind="extension") & ~models.Q(extension=""),
                                name="call_leg_member_started_at")]

    def __str__(self) -> str:
        return self.channel


class CallControlJob(models.Model):
    """One call-control request (originate, hangup, transfer, queue pause ...) and its outcome.

    The API writes the row (``queued``) and a Celery task sends the AMI action to the PBX, then
    records what the PBX answered: the response headers (never a secret: the Login is not kept)
    and, for an originate, the ``OriginateResponse`` that says whether the first leg answered.
    """

    class Action(models.TextChoices):
        ORIGINATE = "originate", "Click-to-call originate"
        HANGUP = "hangup", "Hang up"
        BLIND_TRANSFER = "blind_transfer", "Blind transfer"
        ATTENDED_TRANSFER = "attended_transfer", "Attended transfer"
        QUEUE_PAUSE = "queue_pause", "Queue member pause"
        QUEUE_UNPAUSE = "queue_unpause", "Queue member unpause"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    action = models.CharField(max_length=32, choices=Action.choices)
    parameters = models.JSONField(default=dict, blank=True, help_text="The request, as validated.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    result = models.JSONField(default=dict, blank=True, help_text="What the PBX did (channel, uniqueid ...).")
    ami_response = models.JSONField(default=list, blank=True,
                                    help_text="The PBX's answer: the response and follow-up events, as headers.")
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    server_id = models.BigIntegerField(null=True, blank=True, help_text="The PBX server (public pbx_server.id).")
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "call-control job"

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
