"""Minimal AMI wire helpers for the peers.

Written separately from apps.pbx.ami on purpose: a peer that parsed with the
code under test would agree with its bugs.
"""

from __future__ import annotations

import re

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
_ACTION_ID_LINE = re.compile(rb"(?m)^ActionID: ([^\r\n]*)\r\n")


def headers(frame: bytes) -> list[tuple[str, str]]:
    out = []
    for line in frame.decode("utf-8", "replace").split("\r\n"):
        if line:
            key, _, value = line.partition(": ")
            out.append((key, value))
    return out


def get(frame: bytes, key: str) -> str | None:
    for k, v in headers(frame):
        if k.lower() == key.lower():
            return v
    return None


def masked(frame: bytes) -> str:
    """Frame text with Secret values hidden (peer errors end up in test output)."""
    return "|".join(f"{k}: ***" if k.lower() == "secret" else f"{k}: {v}" for k, v in headers(frame))


def same_action(expected: bytes, actual: bytes, volatile: frozenset[str]) -> bool:
    """Same Action and the same non-volatile headers (order-insensitive, repeats kept)."""

    def key(frame: bytes) -> list[tuple[str, str]]:
        hs = [(k.lower(), v) for k, v in headers(frame) if k.lower() not in volatile]
        return sorted((k, v.lower() if k == "action" else v) for k, v in hs)

    return key(expected) == key(actual)


def rewrite_action_ids(data: bytes, ids: dict[str, str | None]) -> bytes:
    """Put the client's real ActionIDs where the recording has its own ones.

    A recorded ID the client did not send (None) loses its line entirely, as a
    real Asterisk would not echo an ActionID it never got.
    """

    def sub(m: re.Match[bytes]) -> bytes:
        recorded = m.group(1).decode()
        if recorded not in ids:
            return m.group(0)
        actual = ids[recorded]
        return b"" if actual is None else b"ActionID: " + actual.encode() + b"\r\n"

    return _ACTION_ID_LINE.sub(sub, data)


def response(action_id: str | None, *pairs: tuple[str, str]) -> bytes:
    """Build a response the way Asterisk orders it: Response, ActionID, the rest."""
    lines = [f"{pairs[0][0]}: {pairs[0][1]}"]
    if action_id is not None:
        lines.append(f"ActionID: {action_id}")
    lines += [f"{k}: {v}" for k, v in pairs[1:]]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
