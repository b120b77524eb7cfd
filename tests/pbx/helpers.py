"""Helpers shared by the AMI tests."""

from __future__ import annotations

from apps.pbx.ami import AmiConnection

from .peers import AmiReplayServer, load_transcript

SECRET = "portal-secret"  # the AMI secret in the recordings' manager.conf


def connect(peer, secret: str = SECRET, **options) -> AmiConnection:
    options.setdefault("timeout", 3.0)
    return AmiConnection(peer.host, peer.port, "portal", secret, **options)


def assert_replayed(peer: AmiReplayServer) -> None:
    """The whole recording was played, and the client sent the recorded bytes
    (header order included), ActionIDs aside."""
    peer.wait_idle()
    assert peer.errors == []
    assert peer.finished
    recorded = load_transcript(peer.transcript.name).frames("client")
    assert [_no_action_id(f) for f in peer.received] == [_no_action_id(f) for f in recorded]


def _no_action_id(frame: bytes) -> bytes:
    return b"".join(line for line in frame.splitlines(keepends=True) if not line.startswith(b"ActionID: "))
