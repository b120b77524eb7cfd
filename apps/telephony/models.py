"""Telephony objects of one tenant (tenant app: these tables live in each tenant's schema).

Numbers: extensions, queues and IVRs share one internal number space per tenant (checked by the
services under an advisory lock; each table also has its own unique constraint). DIDs are E.164
and unique across the platform (see services.did_* and docs/telephony.md).
"""
from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import Q

from apps.telephony.destinations import DestinationRef
from apps.telephony.features import CODE_PATTERN, FEATURES
from thirdlane.crypto import EncryptedTextField

CODECS = ("ulaw", "alaw", "g722", "g729", "opus", "gsm")
DEFAULT_CODECS = ["ulaw", "alaw", "g722"]

DIGITS = RegexValidator(r"^[0-9]+$", "Digits only.", code="invalid_number")
DIAL_STRING = RegexValidator(r"^\+?[0-9*#]+$", "A dialable number: digits, * and #, optionally a leading +.",
                             code="invalid_number")


def default_codecs() -> list[str]:
    return list(DEFAULT_CODECS)


def codec_field():
    return ArrayField(models.CharField(max_length=8), default=default_codecs, blank=True,
                      help_text="Ordered by preference: " + ", ".join(CODECS) + ".")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Recording(models.TextChoices):
    NEVER = "never", "Never"
    ALWAYS = "always", "Always"
    ON_DEMAND = "on_demand", "On demand"


def current_tenant_slug() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "slug", "") or ""


class Extension(TimeStamped):
    number = models.CharField(max_length=8, unique=True, validators=[DIGITS])
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    sip_secret = EncryptedTextField(blank=True)
    location = models.ForeignKey("pbx.Location", null=True, blank=True, on_delete=models.DO_NOTHING,
                                 related_name="+", help_text="Where the phone is; empty for the tenant's default.")
    caller_id_name = models.CharField(max_length=80, blank=True)
    caller_id_number = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING])
    voicemail_enabled = models.BooleanField(default=True)
    voicemail_pin = EncryptedTextField(blank=True)
    forward_always = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING])
    forward_busy = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING])
    forward_no_answer = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING])
    ring_time = models.PositiveSmallIntegerField(default=20, validators=[MinValueValidator(5), MaxValueValidator(300)],
                                                 help_text="Seconds before no-answer handling.")
    dnd = models.BooleanField("do not disturb", default=False)
    followme_enabled = models.BooleanField("follow-me", default=False,
                                           help_text="Also ring the follow-me numbers (after the delay).")
    followme_numbers = ArrayField(models.CharField(max_length=32, validators=[DIAL_STRING]), default=list, blank=True,
                                  help_text="Extensions of the tenant or external numbers, rung together.")
    followme_delay = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(120)],
                                                      help_text="Seconds the phone rings alone first.")
    settings_version = models.PositiveIntegerField(default=0, editable=False,
                                                   help_text="Grows with every change of DND, forwarding or "
                                                             "follow-me (the PBX keeps the newest).")
    max_contacts = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(20)])
    codecs = codec_field()
    recording_inbound = models.CharField(max_length=10, choices=Recording.choices, default=Recording.NEVER)
    recording_outbound = models.CharField(max_length=10, choices=Recording.choices, default=Recording.NEVER)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def phone_username_for(self, tenant_slug: str) -> str:
        return f"{self.number}-{tenant_slug}"

    @property
    def phone_username(self) -> str:
        """The PJSIP endpoint/auth name on the PBX: tenant-qualified so tenants never collide."""
        return self.phone_username_for(current_tenant_slug())


class Did(TimeStamped):
    number = models.CharField("DID number", max_length=20, unique=True, help_text="E.164, e.g. +14155550100.")
    description = models.CharField(max_length=200, blank=True)
    dest = DestinationRef("dest", verbose_name="destination")
    caller_id_prefix = models.CharField(max_length=20, blank=True, help_text="Prepended to the caller's name.")
    enabled = models.BooleanField(default=True)
    sms_enabled = models.BooleanField("SMS-capable", default=False,
                                      help_text="The number sends and receives SMS through the tenant's SMS provider.")

    class Meta:
        ordering = ["number"]
        verbose_name = "DID"
        verbose_name_plural = "DIDs"

    def __str__(self) -> str:
        return self.number


class Trunk(TimeStamped):
    class Auth(models.TextChoices):
        REGISTRATION = "registration", "Registration (username/secret)"
        IP_AUTH = "ip_auth", "IP authentication"

    class Transport(models.TextChoices):
        UDP = "udp", "UDP"
        TCP = "tcp", "TCP"
        TLS = "tls", "TLS"

    name = models.CharField(max_length=60, unique=True,
                            validators=[RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", "Letters, digits, - and _.")])
    auth_type = models.CharField(max_length=16, choices=Auth.choices, default=Auth.REGISTRATION)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=5060, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    transport = models.CharField(max_length=3, choices=Transport.choices, default=Transport.UDP)
    username = models.CharField(max_length=100, blank=True)
    secret = EncryptedTextField(blank=True)
    codecs = codec_field()
    max_channels = models.PositiveIntegerField(null=True, blank=True, help_text="Empty for no limit.")
    outbound_caller_id = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING])
    # Off by default: many carriers (IP-authenticated ones above all) ignore or rate-limit OPTIONS,
    # and an AOR whose qualify goes unanswered is Unavailable, so every call through it gets 503
    # and failover always skips it. Turn it on for carriers known to answer OPTIONS.
    qualify_frequency = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(86400)],
        help_text="Seconds between SIP OPTIONS pings of the carrier (0 = off; on only for carriers that answer them).")
    # Calls a registered carrier sends to the registration's contact user (``acme4155550100``, or
    # ``acme4155550100;line=...``) rather than to a number: the trunk's DID, else this destination.
    inbound_did = models.ForeignKey(Did, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    help_text="Calls to the trunk's contact user go to this DID's routing.")
    inbound = DestinationRef("inbound", required=False, verbose_name="contact-user destination")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboundRoute(TimeStamped):
    name = models.CharField(max_length=100, unique=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    dial_patterns = ArrayField(models.CharField(max_length=40), default=list,
                               help_text="Asterisk patterns, e.g. _NXXNXXXXXX, _1NXXNXXXXXX, _011.")
    strip_digits = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(20)],
                                                    help_text="Leading digits removed before dialling.")
    prepend = models.CharField(max_length=20, blank=True, validators=[DIAL_STRING])
    is_emergency = models.BooleanField(default=False)
    emergency_numbers = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    trunks = models.ManyToManyField(Trunk, through="OutboundRouteTrunk", related_name="routes")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name


class OutboundRouteTrunk(models.Model):
    route = models.ForeignKey(OutboundRoute, on_delete=models.CASCADE, related_name="route_trunks")
    trunk = models.ForeignKey(Trunk, on_delete=models.PROTECT, related_name="route_trunks")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["route", "order"]
        constraints = [
            models.UniqueConstraint(fields=["route", "trunk"], name="telephony_route_trunk_once"),
        ]
        verbose_name = "route trunk"

    def __str__(self) -> str:
        return f"{self.route} #{self.order}: {self.trunk}"


class Queue(TimeStamped):
    class Strategy(models.TextChoices):
        RINGALL = "ringall", "Ring all"
        LEASTRECENT = "leastrecent", "Least recent"
        FEWESTCALLS = "fewestcalls", "Fewest calls"
        RANDOM = "random", "Random"
        RRMEMORY = "rrmemory", "Round robin with memory"
        LINEAR = "linear", "Linear"
        WRANDOM = "wrandom", "Weighted random"

    number = models.CharField(max_length=8, unique=True, validators=[DIGITS])
    name = models.CharField(max_length=100)
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.RINGALL)
    ring_timeout = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(1), MaxValueValidator(600)],
                                                    help_text="Seconds a member rings.")
    wrapup_time = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(3600)])
    max_wait = models.PositiveIntegerField(default=300, validators=[MaxValueValidator(86400)],
                                           help_text="Seconds a caller waits before the fallback; 0 = forever.")
    max_callers = models.PositiveIntegerField(default=0, help_text="0 = no limit.")
    music_on_hold = models.CharField(max_length=80, default="default")
    announce_position = models.BooleanField(default=False)
    announce_hold_time = models.BooleanField(default=False)
    announce_frequency = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(3600)],
                                                          help_text="Seconds between announcements; 0 = off.")
    join_empty = models.BooleanField(default=True)
    fallback = DestinationRef("fallback", required=False)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Agent(TimeStamped):
    class State(models.TextChoices):
        LOGGED_IN = "logged_in", "Logged in"
        LOGGED_OUT = "logged_out", "Logged out"
        PAUSED = "paused", "Paused"

    name = models.CharField(max_length=100)
    extension = models.OneToOneField(Extension, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="agent")
    login_code = models.CharField(max_length=10, unique=True, validators=[DIGITS])
    state = models.CharField(max_length=12, choices=State.choices, default=State.LOGGED_OUT)
    pause_reason = models.CharField(max_length=100, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class QueueMember(models.Model):
    """An extension or an agent in a queue (agents' queue memberships use this model too)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members")
    extension = models.ForeignKey(Extension, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="queue_memberships")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="queue_memberships")
    penalty = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    signed_out = models.BooleanField(default=False, help_text="An agent that left this queue alone (feature code "
                                                              "+ queue number): not a member on the PBX until it "
                                                              "logs into the queue again or logs in everywhere.")

    class Meta:
        ordering = ["queue", "penalty", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(extension__isnull=False, agent__isnull=True) | Q(extension__isnull=True, agent__isnull=False)),
                name="telephony_member_extension_xor_agent"),
            models.UniqueConstraint(fields=["queue", "extension"], condition=Q(extension__isnull=False),
                                    name="telephony_member_extension_once"),
            models.UniqueConstraint(fields=["queue", "agent"], condition=Q(agent__isnull=False),
                                    name="telephony_member_agent_once"),
        ]

    def __str__(self) -> str:
        who = f"extension {self.extension_id}" if self.extension_id else f"agent {self.agent_id}"
        return f"{who} in queue {self.queue_id}"


class Ivr(TimeStamped):
    number = models.CharField(max_length=8, unique=True, null=True, blank=True, validators=[DIGITS],
                              help_text="Optional internal number to dial the menu directly.")
    name = models.CharField(max_length=100)
    greeting_recording = models.CharField(max_length=200, blank=True, help_text="Sound file name on the PBX.")
    greeting_text = models.TextField(blank=True, help_text="Read by text-to-speech when there is no recording.")
    timeout = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(60)],
                                               help_text="Seconds to wait for a digit.")
    repeat_count = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(10)])
    direct_dial = models.BooleanField(default=False, help_text="Callers may dial an extension number directly.")
    invalid = DestinationRef("invalid", verbose_name="invalid-input destination")
    timeout_dest = DestinationRef("timeout_dest", verbose_name="timeout destination")

    class Meta:
        ordering = ["name"]
        verbose_name = "IVR"
        verbose_name_plural = "IVRs"

    def __str__(self) -> str:
        return self.name


class IvrOption(models.Model):
    ivr = models.ForeignKey(Ivr, on_delete=models.CASCADE, related_name="options")
    digit = models.CharField(max_length=1, validators=[RegexValidator(r"^[0-9*#]$", "One of 0-9, * or #.")])
    dest = DestinationRef("dest", verbose_name="destination")

    class Meta:
        ordering = ["ivr", "digit"]
        constraints = [models.UniqueConstraint(fields=["ivr", "digit"], name="telephony_ivr_digit_once")]
        verbose_name = "IVR option"

    def __str__(self) -> str:
        return f"{self.ivr_id}: {self.digit}"


class Schedule(TimeStamped):
    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WeeklyRange(models.Model):
    class Day(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="weekly_ranges")
    day_of_week = models.PositiveSmallIntegerField(choices=Day.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["schedule", "day_of_week", "start_time"]
        constraints = [models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")),
                                              name="telephony_weekly_range_ordered")]

    def __str__(self) -> str:
        return f"{self.get_day_of_week_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class HolidayRange(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="holidays")
    name = models.CharField(max_length=100)
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["schedule", "start_date"]
        constraints = [models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")),
                                              name="telephony_holiday_ordered")]

    def __str__(self) -> str:
        return f"{self.name} {self.start_date}..{self.end_date}"


class TimeCondition(TimeStamped):
    class Override(models.TextChoices):
        AUTO = "auto", "Follow the schedule"
        FORCE_OPEN = "force_open", "Force open (match)"
        FORCE_CLOSED = "force_closed", "Force closed (no match)"

    name = models.CharField(max_length=100, unique=True)
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="time_conditions")
    match = DestinationRef("match", verbose_name="open destination")
    no_match = DestinationRef("no_match", verbose_name="closed destination")
    override = models.CharField(max_length=12, choices=Override.choices, default=Override.AUTO)
    override_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- PBX features (issue 12): ring groups, call blocking, feature codes, conferences, parking,
# paging. Numbered ones share the tenant's internal number space (selectors.NUMBERED).
class RingGroup(TimeStamped):
    class Strategy(models.TextChoices):
        RINGALL = "ringall", "Ring all"
        HUNT = "hunt", "Hunt (one after another)"
        MEMORYHUNT = "memoryhunt", "Memory hunt (first, then first + second, ...)"

    number = models.CharField(max_length=8, unique=True, validators=[DIGITS])
    name = models.CharField(max_length=100)
    strategy = models.CharField(max_length=12, choices=Strategy.choices, default=Strategy.RINGALL)
    ring_time = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(5), MaxValueValidator(300)],
                                                 help_text="Ring all: seconds the group rings in total.")
    caller_id_prefix = models.CharField(max_length=20, blank=True, help_text="Prepended to the caller's name.")
    no_answer = DestinationRef("no_answer", verbose_name="no-answer destination")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class RingGroupMember(models.Model):
    """An extension of the tenant or an external number (E.164), with its own delay and ring time."""

    ring_group = models.ForeignKey(RingGroup, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField(default=0)
    extension = models.ForeignKey(Extension, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="ring_group_memberships")
    number = models.CharField(max_length=32, blank=True, validators=[DIAL_STRING], help_text="External number.")
    delay = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(120)],
                                             help_text="Ring all: seconds before this member starts ringing.")
    ring_time = models.PositiveSmallIntegerField(default=20, validators=[MinValueValidator(5), MaxValueValidator(300)],
                                                 help_text="Seconds this member rings.")

    class Meta:
        ordering = ["ring_group", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=(Q(extension__isnull=False, number="") |
                                              (Q(extension__isnull=True) & ~Q(number=""))),
                                   name="telephony_rgmember_extension_xor_number"),
        ]
        verbose_name = "ring group member"

    def __str__(self) -> str:
        return f"{self.ring_group_id} #{self.position}: {self.extension_id or self.number}"


class BlockList(TimeStamped):
    """Caller numbers and patterns refused on inbound calls, for every DID or for some."""

    class Action(models.TextChoices):
        REJECT = "reject", "Reject (call rejected)"
        BUSY = "busy", "Busy tone"
        HANGUP = "hangup", "Answer and hang up"

    name = models.CharField(max_length=100, unique=True)
    all_dids = models.BooleanField("all DIDs", default=True, help_text="Checked on every DID of the tenant.")
    dids = models.ManyToManyField(Did, blank=True, related_name="block_lists",
                                  help_text="When not for all DIDs: the DIDs it is checked on.")
    block_anonymous = models.BooleanField(default=False, help_text="Refuse callers without a number.")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.REJECT)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "block list"

    def __str__(self) -> str:
        return self.name


class BlockListEntry(models.Model):
    class Kind(models.TextChoices):
        NUMBER = "number", "Number (E.164)"
        PATTERN = "pattern", "Asterisk pattern"

    block_list = models.ForeignKey(BlockList, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NUMBER)
    value = models.CharField(max_length=40)
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["block_list", "kind", "value"]
        constraints = [models.UniqueConstraint(fields=["block_list", "value"], name="telephony_block_entry_once")]
        verbose_name = "block list entry"
        verbose_name_plural = "block list entries"

    def __str__(self) -> str:
        return self.value


class FeatureCode(models.Model):
    """A tenant's own code for a feature (apps.telephony.features lists them with their defaults);
    a feature without a row uses its default code."""

    feature = models.CharField(max_length=32, unique=True, choices=[(f.key, f.label) for f in FEATURES])
    code = models.CharField(max_length=10,  # unique among enabled features: the service checks the set
                            validators=[RegexValidator(CODE_PATTERN, "2 to 8 of 0-9, * and #.")])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["feature"]

    def __str__(self) -> str:
        return f"{self.feature} {self.code}"


class Conference(TimeStamped):
    """A ConfBridge conference room: PIN, admin PIN, size, recording, music while alone."""

    number = models.CharField(max_length=8, unique=True, validators=[DIGITS])
    name = models.CharField(max_length=100)
    pin = EncryptedTextField(blank=True, help_text="Write-only. Digits callers enter; empty: none.")
    admin_pin = EncryptedTextField(blank=True, help_text="Write-only. Digits that join as the administrator.")
    max_members = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(500)],
                                                   help_text="0 = no limit.")
    record = models.BooleanField(default=False, help_text="Record the conference (ConfBridge record_conference).")
    music_when_alone = models.BooleanField(default=True, help_text="Music on hold while one member is alone.")
    music_class = models.CharField(max_length=80, default="default")
    announce_join_leave = models.BooleanField(default=False, help_text="Callers record their name, announced "
                                                                       "when they join and leave.")
    wait_for_admin = models.BooleanField(default=False, help_text="Members wait (with music) until the "
                                                                  "administrator joins; it ends when they leave.")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ParkingLot(TimeStamped):
    """A tenant's parking lot: calls transferred to ``number`` wait in a slot (dial the slot to
    retrieve); after ``timeout`` seconds they ring the phone that parked them again."""

    name = models.CharField(max_length=100, unique=True)
    number = models.CharField("park extension", max_length=8, unique=True, validators=[DIGITS])
    slot_start = models.CharField(max_length=8, validators=[DIGITS])
    slot_end = models.CharField(max_length=8, validators=[DIGITS])
    timeout = models.PositiveSmallIntegerField(default=45, validators=[MinValueValidator(10), MaxValueValidator(3600)],
                                               help_text="Seconds before the call returns to the parker.")
    music_class = models.CharField(max_length=80, default="default")

    class Meta:
        ordering = ["number"]
        verbose_name = "parking lot"

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class PagingGroup(TimeStamped):
    """Dial the number to speak through the members' phones, auto-answered (Page())."""

    number = models.CharField(max_length=8, unique=True, validators=[DIGITS])
    name = models.CharField(max_length=100)
    duplex = models.BooleanField(default=False, help_text="Two-way audio (intercom) instead of one-way.")
    timeout = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(5), MaxValueValidator(300)],
                                               help_text="Seconds the phones are given to answer.")

    class Meta:
        ordering = ["number"]
        verbose_name = "paging group"

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class PagingMember(models.Model):
    group = models.ForeignKey(PagingGroup, on_delete=models.CASCADE, related_name="members")
    extension = models.ForeignKey(Extension, on_delete=models.PROTECT, related_name="paging_memberships")

    class Meta:
        ordering = ["group", "extension"]
        constraints = [models.UniqueConstraint(fields=["group", "extension"], name="telephony_paging_member_once")]
        verbose_name = "paging group member"

    def __str__(self) -> str:
        return f"{self.group_id}: {self.extension_id}"
