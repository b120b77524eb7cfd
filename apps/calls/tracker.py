"""From AMI events to calls: the in-memory state machine of one PBX server's calls.

The listener feeds every parsed event (``feed``); the tracker keeps the calls in progress keyed by
Asterisk's ``Linkedid`` (one call, however many channels it grows: dialled phones, queue members,
Local halves, transfers), and marks what changed. ``take_changes`` hands the changed calls and the
moments worth an event (ringing, answered, ended, queue joined/abandoned, agent state) to the
store, which writes them per tenant in one transaction (``apps.calls.store``).

Nothing here touches the database, so it is fast (see bench/ami_ingest.py) and easy to test. The
tenant of an event comes from the names the renderer writes (``apps.calls.mapping``); an event
whose names map to no tenant of this server is counted in ``unmapped`` and dropped.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from datetime import datetime

from apps.calls.mapping import TenantMap, parse_channel, parse_context

UP = 6  # AST_STATE_UP
BUSY_CAUSES = {17}
FAILED_CAUSES = {1, 3, 20, 21, 27, 28, 34, 38, 41, 42, 44, 58, 88}
CALL_EVENTS = frozenset({
    "Newchannel", "Newstate", "Newexten", "NewCallerid", "NewConnectedLine", "DialBegin", "DialState", "DialEnd",
    "BridgeEnter", "BridgeLeave", "Hangup", "Hold", "Unhold", "QueueCallerJoin", "QueueCallerLeave",
    "QueueCallerAbandon", "AgentCalled", "AgentConnect", "AgentComplete", "BlindTransfer", "AttendedTransfer",
    "CoreShowChannel",
})
MEMBER_EVENTS = frozenset({"QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved",
                           "QueueMember"})
# What the AMI Login asks for: the classes of the events above (Newexten is "dialplan", the
# queue member events "agent"); ``event_filter`` then narrows them to the events above.
EVENT_MASK = "call,dialplan,agent"
# Besides the events we read, the completions of the lists the resync asks for.
LIST_EVENTS = frozenset({"CoreShowChannelsComplete", "QueueStatusComplete", "QueueParams", "QueueEntry",
                         "FullyBooted"})


def event_filter() -> str:
    """An AMI whitelist filter (``Action: Filter``) letting only the events we use through: the
    dialplan class alone is mostly VarSet, which would otherwise be most of the traffic."""
    names = "|".join(sorted(CALL_EVENTS | MEMBER_EVENTS | LIST_EVENTS))
    return f"Event: ({names})[^A-Za-z]"


@dataclass
class Leg:
    uniqueid: str
    channel: str
    kind: str
    endpoint: str = ""
    extension: str = ""
    caller_number: str = ""
    caller_name: str = ""
    connected_number: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    held: bool = False
    hold_seconds: int = 0  # completed holds
    held_since: datetime | None = None  # the hold in progress


def _close_hold(leg: Leg, at: datetime) -> None:
    """A hold ends (Unhold, or the channel hangs up while held): add its seconds to the leg."""
    if leg.held_since is not None:
        leg.hold_seconds += max(0, round((at - leg.held_since).total_seconds()))
        leg.held_since = None


@dataclass
class CallState:
    tenant: str
    linkedid: str
    started_at: datetime
    legs: dict[str, Leg] = field(default_factory=dict)
    dialled: str = ""  # what the first channel dialled (its first Exten)
    did: str = ""
    trunk: str = ""
    queue: str = ""
    agent: str = ""
    ivr_path: list[str] = field(default_factory=list)
    recording: str = ""
    answered_at: datetime | None = None  # the caller's channel went Up
    human_answered: bool = False  # a dialled phone or an agent answered
    voicemail: bool = False
    queue_joined_at: datetime | None = None
    queue_left_at: datetime | None = None
    queue_connected: bool = False
    dial_status: str = ""
    ended_at: datetime | None = None
    intersite: bool = False
    resynced: bool = False  # rebuilt from the database after a restart

    @property
    def first(self) -> Leg | None:
        return self.legs.get(self.linkedid) or next(iter(self.legs.values()), None)

    @property
    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.ended_at is None]

    # --- derived fields -------------------------------------------------------------------------
    @property
    def direction(self) -> str:
        real = [leg for leg in self.legs.values() if leg.kind != "local"]
        if real and real[0].kind == "trunk":
            return "inbound"
        if any(leg.kind == "trunk" for leg in real):
            return "outbound"
        if self.intersite:
            return "inter_site"
        return "internal"

    @property
    def caller(self) -> tuple[str, str]:
        first = next((leg for leg in self.legs.values() if leg.kind != "local"), self.first)
        return (first.caller_number, first.caller_name) if first else ("", "")

    @property
    def callee(self) -> tuple[str, str]:
        if self.direction == "inbound" and self.did:
            number = self.did
        else:
            number = self.dialled
        answered = next((leg for leg in self.legs.values() if leg is not self.first and leg.answered_at
                         and leg.kind == "extension"), None)
        return number, (answered.caller_name if answered else "")

    @property
    def extensions(self) -> list[str]:
        out: list[str] = []
        for leg in self.legs.values():
            if leg.extension and leg.extension not in out:
                out.append(leg.extension)
        return out

    @property
    def disposition(self) -> str:
        if self.queue_joined_at and not self.queue_connected:
            return "abandoned"
        if self.voicemail and not self.human_answered:
            return "voicemail"
        if self.human_answered or self.answered_at:
            return "answered"
        causes = {leg.hangup_cause for leg in self.legs.values()}
        if self.dial_status == "BUSY" or causes & BUSY_CAUSES:
            return "busy"
        if self.dial_status in ("CHANUNAVAIL", "CONGESTION") or causes & FAILED_CAUSES:
            return "failed"
        return "no_answer"

    @property
    def status(self) -> str:
        if self.ended_at:
            return "ended"
        return "answered" if self.answered_at else "ringing"


@dataclass
class Moment:
    """Something worth an event: ``kind`` in call.ringing/answered/ended, queue.caller_joined,
    queue.caller_abandoned, agent.state_changed."""
    kind: str
    tenant: str
    linkedid: str = ""
    at: datetime | None = None
    data: dict = field(default_factory=dict)


@dataclass
class MemberState:
    tenant: str
    queue: str
    interface: str
    extension: str
    status: int | None
    paused: bool
    reason: str
    in_call: bool
    event: str


class CallTracker:
    def __init__(self, server_id: int, tenants: TenantMap):
        self.server_id = server_id
        self.tenants = tenants
        self.calls: dict[str, CallState] = {}
        self.by_uniqueid: dict[str, str] = {}  # uniqueid -> linkedid
        self.changed: set[str] = set()
        self.moments: list[Moment] = []
        self.members: list[MemberState] = []
        self.ended: dict[str, CallState] = {}  # ended since the last take_changes
        # Linked ids of calls ended lately: their trailing events must not start a new call.
        self.recently_ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self.unmapped = 0
        self.seen = 0

    # --- input ----------------------------------------------------------------------------------
    def feed(self, event: dict, at: datetime) -> None:
        self.seen += 1
        name = event.get("event")
        if name in MEMBER_EVENTS:
            self._member(name, event)
            return
        if name not in CALL_EVENTS:
            return
        linkedid = event.get("linkedid") or self.by_uniqueid.get(event.get("uniqueid") or "")
        if not linkedid:
            return
        call = self.calls.get(linkedid)
        if call is None:
            if linkedid in self.recently_ended or name in ("Hangup", "BridgeLeave"):
                return  # the tail of a call already closed (or never seen): nothing to build on
            tenant = self.tenants.for_event(event)
            if tenant is None:
                self.unmapped += 1
                return
            call = self.calls[linkedid] = CallState(tenant, linkedid, at)
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(call, event, at)
        self.changed.add(linkedid)

    # --- legs -----------------------------------------------------------------------------------
    def _leg(self, call: CallState, event: dict, at: datetime, prefix: str = "") -> Leg | None:
        uniqueid = event.get(f"{prefix}uniqueid")
        channel = event.get(f"{prefix}channel") or ""
        if not uniqueid:
            return None
        leg = call.legs.get(uniqueid)
        if leg is None:
            parsed = parse_channel(channel)
            if parsed.tenant is not None and parsed.tenant != call.tenant and parsed.kind != "other":
                # A channel of another tenant in this call: only inter-site dialling does that.
                call.intersite = True
            leg = call.legs[uniqueid] = Leg(
                uniqueid=uniqueid, channel=channel, kind=parsed.kind, started_at=at,
                endpoint=parsed.endpoint.name if parsed.endpoint else "",
                extension=parsed.endpoint.number if parsed.endpoint and parsed.endpoint.kind == "extension" else "")
            self.by_uniqueid[uniqueid] = call.linkedid
            if parsed.kind == "trunk" and not call.trunk:
                call.trunk = parsed.endpoint.name
        number = event.get(f"{prefix}caller_id_num")
        if number:
            leg.caller_number = str(number)
        name = event.get(f"{prefix}caller_id_name")
        if name:
            leg.caller_name = str(name)
        connected = event.get(f"{prefix}connected_line_num")
        if connected:
            leg.connected_number = str(connected)
        state = event.get(f"{prefix}channel_state")
        if state == UP and leg.answered_at is None:
            self._answered(call, leg, at)
        return leg

    def _answered(self, call: CallState, leg: Leg, at: datetime) -> None:
        leg.answered_at = at
        if leg is call.first or (leg.kind == "local" and leg.uniqueid == call.linkedid):
            if call.answered_at is None:
                call.answered_at = at
                self.moments.append(Moment("call.answered", call.tenant, call.linkedid, at))
        elif leg.kind in ("extension", "trunk"):
            call.human_answered = True

    def _on_Newchannel(self, call, event, at):
        leg = self._leg(call, event, at)
        if leg is not None and leg.uniqueid == call.linkedid:
            if not call.dialled and event.get("exten") not in (None, "", "s"):
                call.dialled = str(event["exten"])
            self.moments.append(Moment("call.ringing", call.tenant, call.linkedid, at))

    _on_CoreShowChannel = _on_Newchannel

    def _on_Newstate(self, call, event, at):
        self._leg(call, event, at)

    def _on_NewCallerid(self, call, event, at):
        self._leg(call, event, at)

    _on_NewConnectedLine = _on_NewCallerid

    def _on_Newexten(self, call, event, at):
        leg = self._leg(call, event, at)
        app = event.get("application") or ""
        ctx = parse_context(event.get("context") or "")
        if ctx is not None:
            if ctx.kind == "from-did" and str(event.get("extension") or "").startswith("+") and not call.did:
                call.did = str(event["extension"])
            elif ctx.kind in ("ivr", "tc") and ctx.object_id is not None:
                step = f"{ctx.kind}-{ctx.object_id}"
                if not call.ivr_path or call.ivr_path[-1] != step:
                    call.ivr_path.append(step)
            elif ctx.kind == "intersite":
                call.intersite = True
        if app == "VoiceMail":
            call.voicemail = True
        elif app == "MixMonitor" and not call.recording:
            call.recording = str(event.get("app_data") or "").split(",")[0]
        elif app == "Dial" and leg is not None and leg.uniqueid == call.linkedid and not call.dialled:
            call.dialled = str(event.get("extension") or "")

    def _on_DialBegin(self, call, event, at):
        self._leg(call, event, at)
        dest = self._leg(call, event, at, "dest_")
        dial_string = str(event.get("dial_string") or "")
        if dest is not None and dest.kind == "trunk" and "@" in dial_string:
            call.dialled = dial_string.split("@", 1)[0]

    def _on_DialState(self, call, event, at):
        self._leg(call, event, at)
        self._leg(call, event, at, "dest_")

    def _on_DialEnd(self, call, event, at):
        self._leg(call, event, at)
        dest = self._leg(call, event, at, "dest_")
        status = str(event.get("dial_status") or "")
        if status:
            call.dial_status = status
        if status == "ANSWER" and dest is not None and dest.answered_at is None:
            self._answered(call, dest, at)

    def _on_BridgeEnter(self, call, event, at):
        self._leg(call, event, at)

    def _on_BridgeLeave(self, call, event, at):
        self._leg(call, event, at)

    def _on_Hold(self, call, event, at):
        leg = self._leg(call, event, at)
        if leg is not None:
            leg.held = True
            leg.held_since = leg.held_since or at
            self.moments.append(Moment("call.held", call.tenant, call.linkedid, at, {"channel": leg.channel}))

    def _on_Unhold(self, call, event, at):
        leg = self._leg(call, event, at)
        if leg is not None:
            leg.held = False
            _close_hold(leg, at)
            self.moments.append(Moment("call.unheld", call.tenant, call.linkedid, at, {"channel": leg.channel}))

    def _on_BlindTransfer(self, call, event, at):
        self.moments.append(Moment("call.transferred", call.tenant, call.linkedid, at,
                                   {"type": "blind", "to": str(event.get("extension") or "")}))

    def _on_AttendedTransfer(self, call, event, at):
        self.moments.append(Moment("call.transferred", call.tenant, call.linkedid, at, {"type": "attended"}))

    def _queue_number(self, event) -> str:
        split = self.tenants.split(str(event.get("queue") or ""))
        return split[1] if split else str(event.get("queue") or "")

    def _on_QueueCallerJoin(self, call, event, at):
        self._leg(call, event, at)
        call.queue = self._queue_number(event)
        if call.queue_joined_at is None:
            call.queue_joined_at = at
            self.moments.append(Moment("queue.caller_joined", call.tenant, call.linkedid, at,
                                       {"queue": call.queue, "position": event.get("position")}))

    def _on_QueueCallerLeave(self, call, event, at):
        self._leg(call, event, at)
        call.queue_left_at = at

    def _on_QueueCallerAbandon(self, call, event, at):
        call.queue_left_at = call.queue_left_at or at
        self.moments.append(Moment("queue.caller_abandoned", call.tenant, call.linkedid, at,
                                   {"queue": self._queue_number(event), "position": event.get("position"),
                                    "hold_time": event.get("hold_time")}))

    def _on_AgentCalled(self, call, event, at):
        self._leg(call, event, at)
        self._leg(call, event, at, "dest_")

    def _on_AgentConnect(self, call, event, at):
        self._leg(call, event, at)
        dest = self._leg(call, event, at, "dest_")
        call.queue_connected = True
        call.queue = call.queue or self._queue_number(event)
        interface = str(event.get("interface") or "")
        parsed = parse_channel(interface + "-00000000") if interface.startswith("PJSIP/") else None
        call.agent = parsed.endpoint.number if parsed and parsed.endpoint else (dest.extension if dest else "")
        if dest is not None and dest.answered_at is None:
            self._answered(call, dest, at)
        call.human_answered = True

    def _on_AgentComplete(self, call, event, at):
        self._leg(call, event, at)

    def _on_Hangup(self, call, event, at):
        leg = self._leg(call, event, at)
        if leg is None:
            return
        leg.ended_at = leg.ended_at or at
        _close_hold(leg, leg.ended_at)
        leg.hangup_cause = event.get("cause") if isinstance(event.get("cause"), int) else leg.hangup_cause
        leg.hangup_cause_text = str(event.get("cause_txt") or leg.hangup_cause_text)
        if not call.live_legs:
            self._end(call, at)

    def _end(self, call: CallState, at: datetime) -> None:
        call.ended_at = at
        for leg in call.legs.values():
            leg.ended_at = leg.ended_at or at
            _close_hold(leg, leg.ended_at)
            self.by_uniqueid.pop(leg.uniqueid, None)
        self.moments.append(Moment("call.ended", call.tenant, call.linkedid, at))
        self.changed.add(call.linkedid)
        self.ended[call.linkedid] = self.calls.pop(call.linkedid)
        self.recently_ended[call.linkedid] = None
        if len(self.recently_ended) > 10_000:
            self.recently_ended.popitem(last=False)

    # --- queue members and agents ----------------------------------------------------------------
    def _member(self, name: str, event: dict) -> None:
        tenant = self.tenants.for_event(event)
        if tenant is None:
            self.unmapped += 1
            return
        interface = str(event.get("interface") or event.get("location") or "")
        parsed = parse_channel(interface + "-00000000") if interface.startswith("PJSIP/") else None
        split = self.tenants.split(str(event.get("queue") or ""))
        self.members.append(MemberState(
            tenant=tenant, queue=split[1] if split else str(event.get("queue") or ""), interface=interface,
            extension=parsed.endpoint.number if parsed and parsed.endpoint else "",
            status=event.get("status") if isinstance(event.get("status"), int) else None,
            paused=bool(event.get("paused")), reason=str(event.get("paused_reason") or ""),
            in_call=bool(event.get("in_call")), event=name))

    # --- resync ---------------------------------------------------------------------------------
    def close_missing(self, present: set[str], at: datetime) -> list[str]:
        """After a (re)connect: end every call none of whose channels the PBX still has."""
        gone = [linkedid for linkedid, call in self.calls.items()
                if not any(leg.uniqueid in present for leg in call.legs.values())]
        for linkedid in gone:
            self._end(self.calls[linkedid], at)
        return gone

    # --- output ---------------------------------------------------------------------------------
    def take_changes(self) -> tuple[list[CallState], list[Moment], list[MemberState]]:
        calls = [self.calls.get(linkedid) or self.ended[linkedid] for linkedid in self.changed
                 if linkedid in self.calls or linkedid in self.ended]
        moments, members = self.moments, self.members
        self.changed, self.moments, self.members, self.ended = set(), [], [], {}
        return calls, moments, members
