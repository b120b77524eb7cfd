"""Recorded AMI sessions cut to the actions one task sends.

A task opens its own session: Login, its actions, Logoff. ``sliced("reload", ["reload-pjsip"])``
keeps the recording's banner, Login (with its FullyBooted/SuccessfulAuth events), the chosen
recorded steps (each client frame with the server bytes that followed it, byte for byte) and the
Logoff; ``"queue:qs-1"`` takes a step from another recorded session. ``rename`` substitutes recorded names (our queues are ``<tenant>-<number>``, the
recording's queue is ``acme-sales``); ``derive`` adds a step copied from a recorded one under
another name (``app_voicemail.so`` reloads exactly like the recorded ``app_queue.so``).
"""
from __future__ import annotations

from tests.pbx.peers import ami_wire
from tests.pbx.peers.fixtures import Entry, Transcript, load_transcript


def _steps(transcript: Transcript):
    head, steps = [], []
    for entry in transcript.entries:
        if entry.dir == "client":
            steps.append((entry, []))
        elif steps:
            steps[-1][1].append(entry)
        else:
            head.append(entry)
    return head, {ami_wire.get(client.data, "ActionID"): (client, server) for client, server in steps}


def _step(steps: dict, action_id: str):
    if action_id in steps:
        return steps[action_id]
    other, _, bare = action_id.partition(":")  # a step of another recorded session: "queue:qs-1"
    return _steps(load_transcript(other))[1][bare]


def sliced(name: str, action_ids: list[str], *, rename: dict[bytes, bytes] | None = None,
           derive: dict[str, tuple[str, dict[bytes, bytes]]] | None = None) -> Transcript:
    head, steps = _steps(load_transcript(name))
    for new_id, (source, replacements) in (derive or {}).items():
        reps = {**replacements, source.rpartition(":")[2].encode(): new_id.rpartition(":")[2].encode()}
        client, server = _step(steps, source)
        steps[new_id] = (Entry(client.t, client.dir, _replace(client.data, reps)),
                         [Entry(e.t, e.dir, _replace(e.data, reps)) for e in server])
    entries = list(head)
    for action_id in ["login-1", *action_ids, "logoff-1"]:
        client, server = _step(steps, action_id)
        entries += [client, *server]
    if rename:
        entries = [Entry(e.t, e.dir, _replace(e.data, rename)) for e in entries]
    return Transcript(f"{name}[{','.join(action_ids)}]", tuple(entries))


def _replace(data: bytes, replacements: dict[bytes, bytes]) -> bytes:
    for old, new in replacements.items():
        data = data.replace(old, new)
    return data


def test_a_slice_keeps_the_recorded_bytes_of_each_step():
    full = load_transcript("reload")
    cut = sliced("reload", ["reload-pjsip"])
    clients = [ami_wire.get(e.data, "ActionID") for e in cut.entries if e.dir == "client"]
    assert clients == ["login-1", "reload-pjsip", "logoff-1"]
    recorded = b"".join(e.data for e in full.entries)
    for entry in cut.entries:
        assert entry.data in recorded


def test_a_derived_step_is_the_source_step_renamed():
    cut = sliced("reload", ["reload-vm"], derive={"reload-vm": ("reload-queue", {b"app_queue.so": b"app_voicemail.so"})})
    data = b"".join(e.data for e in cut.entries)
    assert b"Module: app_voicemail.so" in data and b"app_queue.so" not in data
    assert b"ActionID: reload-vm" in data


def test_a_step_can_come_from_another_recorded_session():
    cut = sliced("reload", ["reload-queue", "queue:qs-1"])
    clients = [ami_wire.get(e.data, "ActionID") for e in cut.entries if e.dir == "client"]
    assert clients == ["login-1", "reload-queue", "qs-1", "logoff-1"]
