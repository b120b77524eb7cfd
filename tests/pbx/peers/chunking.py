"""Re-split a byte stream so clients meet partial reads at every possible place.

The recordings never split a message across reads (loopback), but a real network
will, so peers can replay the same bytes as: recorded reads, one merged write per
step, or pseudo-random pieces (e.g. 1..7 bytes) that cut lines, CRLFs and UTF-8.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def parse_chunking(spec: str) -> tuple[str, int, int]:
    """"recorded" | "merged" | "random:1-7" | "bytes" (= random:1-1)."""
    if spec in ("recorded", "merged"):
        return spec, 0, 0
    if spec == "bytes":
        return "random", 1, 1
    kind, _, rng = spec.partition(":")
    if kind != "random" or "-" not in rng:
        raise ValueError(f"unknown chunking {spec!r}")
    lo, hi = (int(x) for x in rng.split("-"))
    if not 1 <= lo <= hi:
        raise ValueError(f"bad chunk range {spec!r}")
    return kind, lo, hi


def split_random(data: bytes, lo: int, hi: int, rng: random.Random) -> Iterator[bytes]:
    i = 0
    while i < len(data):
        n = rng.randint(lo, hi)
        yield data[i : i + n]
        i += n
