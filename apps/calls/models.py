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
        indexes = [models.Index(fields=["status", "started_at"])]

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

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "uniqueid"], name="call_leg_uniqueid")]

    def __str__(self) -> str:
        return self.channel
