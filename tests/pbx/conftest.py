"""Fixtures for the PBX protocol tests. No Django, no database: these run with
`-p no:django` and exercise only sockets against recorded Asterisk 22 sessions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `pytest tests/pbx` from the repo root must import `apps.*` even without
# `python -m` (which is what puts the working directory on sys.path).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from .peers import AmiReplayServer, ScriptedAmiServer  # noqa: E402


@pytest.fixture
def replay():
    """`replay("queue", chunking="random:1-7")` -> a started AmiReplayServer."""
    peers: list[AmiReplayServer] = []

    def start(name: str, **options) -> AmiReplayServer:
        peer = AmiReplayServer(name, **options).start()
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.close()


@pytest.fixture
def scripted():
    """`scripted(AmiScript(...), ...)` -> a started ScriptedAmiServer."""
    servers: list[ScriptedAmiServer] = []

    def start(*scripts) -> ScriptedAmiServer:
        server = ScriptedAmiServer(*scripts).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
