"""Server-sent event frames (the text/event-stream wire format).

Each outbox event is one frame: ``id`` is the outbox id (what ``Last-Event-ID`` resumes from),
``event`` the type, ``data`` the webhook message as one line of JSON (JSON escapes newlines, so
the message never needs several ``data:`` lines).
"""
from __future__ import annotations

import json

from apps.webhooks.delivery import body_json, event_body

# Clients wait this long before reconnecting (EventSource honours it).
RETRY_MS = 3000


def event_frame(event) -> bytes:
    return f"id: {event.id}\nevent: {event.type}\ndata: {body_json(event_body(event))}\n\n".encode()


def comment(text: str = "") -> bytes:
    # A comment line keeps proxies and clients from timing the connection out; no event fires.
    return f": {text}\n\n".encode()


def opening(retry_ms: int = RETRY_MS) -> bytes:
    return f"retry: {retry_ms}\n: stream open\n\n".encode()


def closing(problem: dict) -> bytes:
    """The last frame when the server ends a stream (slow client, revoked key, shutdown):
    an ``error`` event carrying problem+json, so the client can tell why."""
    return f"event: stream-error\ndata: {json.dumps(problem, separators=(',', ':'))}\n\n".encode()
