"""Asterisk's side of FastAGI: connect to the server under test and talk like
Asterisk 22 did in agi-crm-lookup.jsonl.

`replay()` sends the recorded `asterisk` bytes and checks that each line our
server sends is byte-identical to the recorded `agi-server` line at that point.
`session()` sends an environment and answers each command line with a
callable, for cases no recording covers (511 on a dead channel, 520 usage, ...).
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .chunking import parse_chunking, split_random
from .fixtures import Transcript, load_transcript
from .tcp import StreamReader


@dataclass
class AgiSessionResult:
    received: list[bytes] = field(default_factory=list)  # lines from the server, LF kept
    errors: list[str] = field(default_factory=list)
    closed_by_server: bool = False

    @property
    def received_bytes(self) -> bytes:
        return b"".join(self.received)


class FastAgiAsterisk:
    def __init__(self, host: str, port: int, *, chunking: str = "recorded", seed: int = 0,
                 line_timeout: float = 5.0) -> None:
        self.host, self.port = host, port
        self._chunking = parse_chunking(chunking)
        self._rng = random.Random(seed)
        self.line_timeout = line_timeout

    def _send(self, sock: socket.socket, data: bytes) -> None:
        kind, lo, hi = self._chunking
        pieces = split_random(data, lo, hi, self._rng) if kind == "random" else [data]
        for piece in pieces:
            sock.sendall(piece)
            if kind == "random":
                time.sleep(0.0002)  # make the pieces arrive as separate reads

    def replay(self, transcript: str | Transcript = "agi-crm-lookup", *, speed: float | None = None) -> AgiSessionResult:
        """speed=None sends Asterisk's lines as soon as they are due; a float keeps
        the recorded gaps scaled by it (the HANGUP came 2.5 s after the last reply)."""
        tr = load_transcript(transcript) if isinstance(transcript, str) else transcript
        result = AgiSessionResult()
        with socket.create_connection((self.host, self.port), timeout=self.line_timeout) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = StreamReader(sock)
            last_t = 0.0
            for entry in tr.entries:
                if entry.dir == "asterisk":
                    if speed is not None:
                        time.sleep(max(0.0, (entry.t - last_t) * speed))
                    self._send(sock, entry.data)
                    last_t = entry.t
                    continue
                line = reader.read_until(b"\n", self.line_timeout)
                if line is None:
                    result.errors.append(f"server sent nothing where the recording has {entry.data!r}")
                    return result
                result.received.append(line)
                if line != entry.data:
                    result.errors.append(f"expected {entry.data!r}, got {line!r}")
                    return result
                last_t = entry.t
            result.closed_by_server = reader.wait_eof(self.line_timeout)
            if reader.buf:
                result.errors.append(f"server sent more than recorded: {bytes(reader.buf)!r}")
        return result

    def session(self, env: dict[str, str], answer: Callable[[bytes], bytes | None],
                *, max_lines: int = 50) -> AgiSessionResult:
        """Send `env` as agi_* lines, then reply `answer(line)` to each line received
        (None: send nothing) until the server closes."""
        result = AgiSessionResult()
        block = "".join(f"{k}: {v}\n" for k, v in env.items()) + "\n"
        with socket.create_connection((self.host, self.port), timeout=self.line_timeout) as sock:
            reader = StreamReader(sock)
            self._send(sock, block.encode())
            for _ in range(max_lines):
                line = reader.read_until(b"\n", self.line_timeout)
                if line is None:
                    result.closed_by_server = reader.eof
                    return result
                result.received.append(line)
                reply = answer(line)
                if reply:
                    self._send(sock, reply)
            result.errors.append("too many lines")
        return result
