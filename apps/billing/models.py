"""CDRs of one tenant (tenant app: the table lives in each tenant's schema).

A CDR is what a billing system rates: one row per call leg that crossed a trunk (the inbound leg
a carrier delivered on a DID, each outbound leg to a carrier), plus one row per internal or
inter-site call (no trunk). It is written once, when its call ends, in the same transaction as the
call record (``apps.calls.store``), and never changes afterwards.

``id`` is the incremental-pull cursor: CDRs are inserted under a per-tenant advisory lock held
until commit, so ids become visible in increasing order and a reader that has seen id N never
later finds a new row below N ("no gap, no duplicate" for ``after=<cursor>`` pulls and exports).
"""
from __future__ import annotations

from django.db import models

from apps.calls.models import Call


class Cdr(models.Model):
    # The call record's choices: a CDR's direction and disposition mean the same things.
    Direction = Call.Direction
    Disposition = Call.Disposition

    id = models.BigAutoField(primary_key=True)
    server_id = models.BigIntegerField(help_text="The PBX server (public pbx_server.id).")
    linkedid = models.CharField(max_length=64, help_text="The call (Asterisk Linkedid).")
    leg = models.CharField(max_length=64, blank=True,
                           help_text="The trunk leg (Asterisk Uniqueid); empty for an internal call's row.")
    call_id = models.BigIntegerField(null=True, blank=True, help_text="The call record (may be purged first).")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    source = models.CharField(max_length=64, blank=True, help_text="Calling number: E.164, or an extension.")
    destination = models.CharField(max_length=64, blank=True, help_text="Called number: E.164, or an extension.")
    did = models.CharField(max_length=32, blank=True, help_text="The DID the call came in on (E.164).")
    trunk = models.CharField(max_length=64, blank=True, help_text="The trunk's name in the portal.")
    extension = models.CharField(max_length=32, blank=True, help_text="The tenant's extension on the call.")
    disposition = models.CharField(max_length=16, choices=Disposition.choices)
    hangup_cause = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Q.850 cause code.")
    hangup_cause_text = models.CharField(max_length=64, blank=True)
    account_code = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    duration = models.PositiveIntegerField(help_text="Seconds from start to end.")
    billsec = models.PositiveIntegerField(help_text="Seconds from answer to end (0 when not answered).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "CDR"
        verbose_name_plural = "CDRs"
        constraints = [models.UniqueConstraint(fields=["server_id", "linkedid", "leg"], name="cdr_once_per_leg")]
        indexes = [models.Index(fields=["started_at", "id"]), models.Index(fields=["ended_at"])]

    def __str__(self) -> str:
        return f"{self.source or '?'} → {self.destination or '?'} ({self.billsec}s)"
