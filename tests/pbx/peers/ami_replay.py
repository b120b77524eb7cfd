"""An AMI server that replays a recorded Asterisk 22 session.

The transcript is cut into steps: the server bytes before the first client
frame (the banner), then for each recorded client frame, the server bytes that
followed it. For every step the peer waits for the client's next action, checks
it against the recorded one (Action and every header except ActionID), rewrites
recorded ActionIDs to the ones the client really sent, and writes the recorded
server bytes, optionally re-chunked and/or with the recorded delays. When the
transcript ends the peer closes the socket, as Asterisk did (after Logoff, or
after a refused Login).
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field

from . import ami_wire
from .chunking import parse_chunking, split_random
from .fixtures import Entry, Transcript, load_transcript
from .tcp import PeerServer, StreamReader


@dataclass
class _Step:
    client: Entry | None
    server: list[Entry] = field(default_factory=list)


def _steps(transcript: Transcript) -> list[_Step]:
    steps = [_Step(None)]
    for entry in transcript.entries:
        if entry.dir == "client":
            steps.append(_Step(entry))
        else:
            steps[-1].server.append(entry)
    return steps


class AmiReplayServer(PeerServer):
    """Replays `transcript` to every connection.

    chunking: "recorded" (one write per recorded read), "merged" (one write per
      step), "random:LO-HI" or "bytes" (pieces that cut anywhere, across messages).
    pace: seconds to sleep after each piece, so the client really sees them apart.
    timing: honour the recorded delays (x `speed`) between a client frame and the
      server bytes that followed it (e.g. the ~1 s before a failed-login answer).
    extra_pings: answer a Ping that is not in the recording (a client keepalive)
      instead of failing the replay.
    """

    VOLATILE = frozenset({"actionid"})

    def __init__(
        self,
        transcript: str | Transcript,
        *,
        chunking: str = "recorded",
        seed: int = 0,
        pace: float = 0.0,
        timing: bool = False,
        speed: float = 1.0,
        extra_pings: bool = False,
        frame_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.transcript = load_transcript(transcript) if isinstance(transcript, str) else transcript
        self._steps = _steps(self.transcript)
        self._chunking = parse_chunking(chunking)
        self._rng = random.Random(seed)
        self.pace = pace
        self.timing = timing
        self.speed = speed
        self.extra_pings = extra_pings
        self.frame_timeout = frame_timeout
        self.received: list[bytes] = []  # client frames as received (secrets included: test-only)
        self.sent = bytearray()  # server bytes after ActionID rewriting
        self.extra_pings_answered = 0
        self.finished = False  # every step replayed

    def handle(self, conn: socket.socket, index: int) -> None:
        reader = StreamReader(conn)
        ids: dict[str, str | None] = {}
        for step in self._steps:
            base_t, started = 0.0, time.monotonic()
            if step.client is not None:
                frame = self._next_frame(conn, reader, step.client.data)
                if frame is None:
                    return
                if not ami_wire.same_action(step.client.data, frame, self.VOLATILE):
                    self.errors.append(
                        f"expected {ami_wire.masked(step.client.data)!r}, got {ami_wire.masked(frame)!r}"
                    )
                    return
                recorded_id = ami_wire.get(step.client.data, "ActionID")
                if recorded_id is not None:
                    ids[recorded_id] = ami_wire.get(frame, "ActionID")
                base_t, started = step.client.t, time.monotonic()
            self._send_step(conn, step, ids, base_t, started)
        self.finished = True

    def _next_frame(self, conn: socket.socket, reader: StreamReader, expected: bytes) -> bytes | None:
        while True:
            frame = reader.read_until(b"\r\n\r\n", self.frame_timeout)
            if frame is None:
                self.errors.append(
                    f"client sent nothing (closed={reader.eof}) where the recording has "
                    f"{ami_wire.masked(expected)!r}"
                )
                return None
            self.received.append(frame)
            is_ping = (ami_wire.get(frame, "Action") or "").lower() == "ping"
            if self.extra_pings and is_ping and not ami_wire.same_action(expected, frame, self.VOLATILE):
                self.extra_pings_answered += 1
                conn.sendall(ami_wire.response(
                    ami_wire.get(frame, "ActionID"), ("Response", "Success"), ("Ping", "Pong"),
                    ("Timestamp", f"{time.time():.6f}"),
                ))
                continue
            return frame

    def _send_step(self, conn: socket.socket, step: _Step, ids: dict[str, str | None],
                   base_t: float, started: float) -> None:
        kind, lo, hi = self._chunking
        pending = bytearray()
        for entry in step.server:
            if self.timing:
                delay = started + (entry.t - base_t) * self.speed - time.monotonic()
                if delay > 0:
                    self._write(conn, pending, kind, lo, hi)
                    pending.clear()
                    time.sleep(delay)
            data = ami_wire.rewrite_action_ids(entry.data, ids)
            self.sent += data
            if kind == "recorded":
                self._write(conn, data, kind, lo, hi)
            else:
                pending += data
        self._write(conn, pending, kind, lo, hi)

    def _write(self, conn: socket.socket, data: bytes | bytearray, kind: str, lo: int, hi: int) -> None:
        if not data:
            return
        pieces = split_random(bytes(data), lo, hi, self._rng) if kind == "random" else [bytes(data)]
        for piece in pieces:
            conn.sendall(piece)
            if self.pace:
                time.sleep(self.pace)
