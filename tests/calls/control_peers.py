"""AMI answers for the call-control tests, in the byte layout of the Asterisk 22 recordings.

Originate answers are the recorded frames themselves (originate-local: queued, then an
OriginateResponse Success; originate-fail-and-sync: an OriginateResponse Failure, Reason 0), with
the recorded ActionID and channel replaced by the ones the client sent. The other actions were not
recorded; their answers use Asterisk 22's Message texts (main/manager.c, apps/app_queue.c), in the
layout every recorded response has (Response, ActionID, Message).
"""
from __future__ import annotations

from tests.pbx.peers import AmiScript, ScriptedAmiServer, ami_wire, load_transcript


def recorded_frames(name: str) -> list[bytes]:
    data = load_transcript(name).data("server")
    return [f + b"\r\n\r\n" for f in data.split(b"\r\n\r\n") if f.strip()]


def _frame(name: str, *starts: bytes) -> bytes:
    for frame in recorded_frames(name):
        if all(s in frame for s in starts):
            return frame
    raise LookupError(f"{name}: no frame with {starts}")


QUEUED = _frame("originate-local", b"Message: Originate successfully queued")
ANSWERED = _frame("originate-local", b"Event: OriginateResponse", b"Response: Success")
FAILED = _frame("originate-fail-and-sync", b"Event: OriginateResponse", b"Response: Failure")


def _recorded_id(frame: bytes) -> bytes:
    return ami_wire.get(frame, "ActionID").encode()


def _with(frame: bytes, request: bytes, **replace: bytes) -> bytes:
    out = frame.replace(b"ActionID: " + _recorded_id(frame), b"ActionID: " + ami_wire.get(request, "ActionID").encode())
    for old, new in replace.items():
        out = out.replace(old.encode(), new)
    return out


def originate(outcome: str = "answered", reason: bytes | None = None):
    """An Originate handler: the recorded "queued" response, then the recorded OriginateResponse
    (``answered`` or ``failed``; ``reason`` replaces the recorded Reason, 5 = busy)."""
    def handler(request: bytes) -> bytes:
        channel = ami_wire.get(request, "Channel").encode()
        event = ANSWERED if outcome == "answered" else FAILED
        recorded_channel = ami_wire.get(event, "Channel")
        # A channel that answered has a name (PJSIP/1001-acme-00000000); a failed one only its dial string.
        name = channel + b"-00000000" if outcome == "answered" else channel
        event = _with(event, request).replace(b"Channel: " + recorded_channel.encode(), b"Channel: " + name)
        if reason is not None:
            event = event.replace(b"Reason: " + ami_wire.get(event, "Reason").encode(), b"Reason: " + reason)
        return _with(QUEUED, request) + event
    return handler


def answer(status: str, message: str):
    def handler(request: bytes) -> bytes:
        return ami_wire.response(ami_wire.get(request, "ActionID"), ("Response", status), ("Message", message))
    return handler


HANDLERS = {
    "originate": originate(),
    "hangup": answer("Success", "Channel Hungup"),
    "redirect": answer("Success", "Redirect successful"),
    "atxfer": answer("Success", "Atxfer successfully queued"),
    "queuepause": answer("Success", "Interface paused successfully"),
}


def peer(**handlers) -> ScriptedAmiServer:
    """A scripted AMI server (not started: use it as a context manager)."""
    return ScriptedAmiServer(AmiScript(login_events=[], handlers={**HANDLERS, **handlers}))


def sent(server: ScriptedAmiServer, action: str) -> list[list[tuple[str, str]]]:
    """The headers of every ``action`` the peer received, in order, as (key, value) pairs."""
    return [ami_wire.headers(f) for frames in server.actions for f in frames
            if (ami_wire.get(f, "Action") or "").lower() == action.lower()]
