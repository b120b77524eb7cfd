"""What a call-control job sends over AMI, and what the PBX's answer means.

    originate          Originate  Channel PJSIP/<ext>-<t> (ring the user's own phone first, nothing
                                  else: not its forwards or voicemail), then Context <t>-internal /
                                  Exten <number> / Priority 1: the number is dialled from the
                                  phone's own context, so the tenant's outbound routes and caller-ID
                                  rules (TL_OUTCID, the trunk's caller ID) apply as if dialled on the
                                  phone. CallerID is the extension's own identity, as in pjsip.conf;
                                  a caller ID override is Variable TL_OUTCID. Async, and the job
                                  waits for the OriginateResponse (answered, busy, no answer ...).
    hangup             Hangup     Channel
    blind_transfer     Redirect   Channel, Context <t>-internal, Exten <destination>, Priority 1
    attended_transfer  Atxfer     Channel (the transferring party), Exten, Context <t>-internal
    queue_(un)pause    QueuePause [Queue <t>-<queue>], Interface PJSIP/<ext>-<t>, Paused, [Reason]

Delivery is at most once: a failure before the action is written (no connection, no banner,
login timeout) is ``Unreachable`` and the task retries; once it is written, a lost connection
or a missing answer fails the job without a retry, because the PBX may have acted on it (a
second Originate would ring the phone twice).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from apps.calls.models import CallControlJob
from apps.pbx.ami import ORIGINATE_REASONS, AmiAuthError, AmiConnection, AmiConnectionError, AmiError
from apps.pbx.ami.message import SECRET_KEYS
from apps.pbx.render import names

A = CallControlJob.Action

# OriginateResponse Reason -> the job's error code (Reason 4, answered, is success).
ORIGINATE_FAILURES = {"0": "extension_unavailable", "1": "no_answer", "3": "no_answer", "5": "busy",
                      "8": "congestion"}
# Asterisk's Message texts (main/manager.c, apps/app_queue.c) -> the job's error code.
MESSAGE_CODES = (
    (re.compile(r"no such channel|channel does not exist|channel specified does not exist", re.I), "channel_not_found"),
    (re.compile(r"interface not found", re.I), "not_a_queue_member"),
    (re.compile(r"no attended transfer feature", re.I), "not_supported_by_dialplan"),
)
# Every code a failed job can carry (docs/api.md lists them).
JOB_ERRORS = ("pbx_unreachable", "pbx_timeout", "ami_refused", "channel_not_found", "busy", "no_answer",
              "extension_unavailable", "congestion", "not_a_queue_member", "not_supported_by_dialplan", "pbx_error",
              "expired", "internal_error")


class Unreachable(Exception):
    """Nothing was sent: the server did not answer the connect, the banner or the login."""


@dataclass(frozen=True)
class Planned:
    name: str
    headers: dict[str, Any]
    expect_event: str | None = None
    ring_seconds: float = 0.0  # how long the follow-up event may take beyond the AMI timeout


@dataclass
class Outcome:
    ok: bool
    code: str = ""
    message: str = ""
    result: dict = field(default_factory=dict)
    ami: list[dict] = field(default_factory=list)


def plan(job: CallControlJob, slug: str) -> Planned:
    p = job.parameters
    internal = names.context(slug, "internal")
    action_id = {"ActionID": f"tl-cc-{job.pk}-{job.attempts}"}
    if job.action == A.ORIGINATE:
        ring = int(p["ring_timeout"])
        headers = {**action_id, "Channel": names.interface(p["extension"], slug), "Context": internal,
                   "Exten": p["number"], "Priority": 1, "Async": True,
                   "CallerID": f'"{p["caller_id_name"]}" <{p["extension"]}>', "Timeout": ring * 1000}
        if p.get("caller_id"):
            headers["Variable"] = {"TL_OUTCID": p["caller_id"]}
        return Planned("Originate", headers, expect_event="OriginateResponse", ring_seconds=ring)
    if job.action == A.HANGUP:
        return Planned("Hangup", {**action_id, "Channel": p["channel"]})
    if job.action == A.BLIND_TRANSFER:
        return Planned("Redirect", {**action_id, "Channel": p["channel"], "Context": internal,
                                    "Exten": p["destination"], "Priority": 1})
    if job.action == A.ATTENDED_TRANSFER:
        return Planned("Atxfer", {**action_id, "Channel": p["channel"], "Exten": p["destination"], "Context": internal})
    if job.action in (A.QUEUE_PAUSE, A.QUEUE_UNPAUSE):
        paused = job.action == A.QUEUE_PAUSE
        return Planned("QueuePause", {**action_id,
                                      "Queue": names.queue(p["queue"], slug) if p.get("queue") else None,
                                      "Interface": names.interface(p["extension"], slug), "Paused": paused,
                                      "Reason": (p.get("reason") or None) if paused else None})
    raise ValueError(f"unknown call-control action {job.action!r}")


def _headers(message) -> dict:
    """A message's headers for the job record; a secret-bearing key never leaves."""
    return {k: v for k, v in message.to_dict().items() if k.lower() not in SECRET_KEYS}


def _code(message: str) -> str:
    return next((code for pattern, code in MESSAGE_CODES if pattern.search(message or "")), "pbx_error")


def execute(server, planned: Planned, *, timeout: float) -> Outcome:
    """Log in to ``server``, send ``planned``, wait for its answer (and follow-up event)."""
    ami = AmiConnection(server.ami_host, server.ami_port, server.ami_username, server.ami_secret, timeout=timeout,
                        events="call" if planned.expect_event else False)
    try:
        ami.connect()
        ami.login()
    except AmiAuthError:
        return Outcome(False, "ami_refused", f"AMI login refused by {server.name}: check ami_username/ami_secret.")
    except AmiError as exc:
        ami.close()
        raise Unreachable(f"AMI {server.ami_host}:{server.ami_port}: {exc}") from exc
    try:
        try:
            future = ami.send_action(planned.name, expect_event=planned.expect_event, **planned.headers)
        except AmiConnectionError as exc:
            raise Unreachable(f"AMI {server.ami_host}:{server.ami_port}: {exc}") from exc
        try:
            response = future.response(timeout)
        except AmiError as exc:
            return Outcome(False, "pbx_unreachable", f"{planned.name} was sent but not answered ({exc}); "
                                                     "not retried: the PBX may have acted on it.")
        answer = [_headers(response)]
        if not response.ok:
            return Outcome(False, _code(response.message), f"{server.name}: {response.message or response.status}",
                           ami=answer)
        if not planned.expect_event:
            return Outcome(True, result={"message": response.message}, ami=answer)
        try:
            response = future.result(timeout + planned.ring_seconds)
        except AmiError as exc:
            return Outcome(False, "pbx_timeout", f"{planned.name} was queued but its outcome never came ({exc}).",
                           ami=answer)
        return _originated(response, answer)
    finally:
        ami.logoff()


def _originated(response, answer: list[dict]) -> Outcome:
    event = response.events[-1] if response.events else None
    if event is None:
        return Outcome(False, "pbx_timeout", "No OriginateResponse.", ami=answer)
    answer.append(_headers(event))
    reason = event.get("Reason", "")
    uniqueid = event.get("Uniqueid", "")
    result = {"channel": event.get("Channel", ""), "uniqueid": "" if uniqueid == "<unknown>" else uniqueid,
              "reason": reason, "reason_text": ORIGINATE_REASONS.get(reason, "unknown")}
    if (event.get("Response") or "").lower() == "success":
        return Outcome(True, result=result, ami=answer)
    code = ORIGINATE_FAILURES.get(reason, "pbx_error")
    return Outcome(False, code, f"The extension's phone did not take the call: {result['reason_text']}.",
                   result=result, ami=answer)
