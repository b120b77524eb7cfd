"""Find and load the recorded Asterisk 22 transcripts (shared/fixtures/asterisk-22).

The fixtures live beside the repository, not in it: /work/shared/... here and
../shared/... from the repo root in CI. `ASTERISK_FIXTURES` overrides the search.
A missing directory is an error, not a skip: silently skipping would turn the
whole protocol suite green without testing anything.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

FIXTURE_SUBDIR = Path("shared") / "fixtures" / "asterisk-22"


@functools.cache
def fixtures_dir() -> Path:
    env = os.environ.get("ASTERISK_FIXTURES")
    if env:
        path = Path(env)
        if not path.is_dir():
            raise FileNotFoundError(f"ASTERISK_FIXTURES={env} is not a directory")
        return path
    for parent in Path(__file__).resolve().parents:
        candidate = parent / FIXTURE_SUBDIR
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"no {FIXTURE_SUBDIR} found above {Path(__file__).parent}; set ASTERISK_FIXTURES"
    )


@dataclass(frozen=True)
class Entry:
    t: float  # seconds since the connection was made
    dir: str  # "server"/"client" (AMI) or "asterisk"/"agi-server" (FastAGI)
    data: bytes  # exact bytes: one recv() (server side) or one sendall() (client side)


@dataclass(frozen=True)
class Transcript:
    name: str
    entries: tuple[Entry, ...]

    def data(self, direction: str) -> bytes:
        return b"".join(e.data for e in self.entries if e.dir == direction)

    def frames(self, direction: str) -> list[bytes]:
        return [e.data for e in self.entries if e.dir == direction]


@functools.cache
def load_transcript(name: str) -> Transcript:
    """`load_transcript("login-ok")` reads login-ok.jsonl byte-exactly."""
    path = fixtures_dir() / f"{name.removesuffix('.jsonl')}.jsonl"
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        # The recorder adds "b64" for bytes that were not valid UTF-8 (none so far).
        data = base64.b64decode(row["b64"]) if "b64" in row else row["data"].encode("utf-8")
        entries.append(Entry(float(row["t"]), row["dir"], data))
    return Transcript(path.stem, tuple(entries))
