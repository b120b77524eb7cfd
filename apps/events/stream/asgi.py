"""The ASGI application of the stream process: the stream path here, anything else to Django.

A stream is one coroutine and a small buffer, not a thread: the handshake (a normal DRF view,
``apps.events.api.views``) runs in asgiref's thread-sensitive thread, then the coroutine writes
what the hub hands it. Disconnects are noticed from ``http.disconnect``; a client that stops
reading is cut after ``EVENT_STREAM_SEND_TIMEOUT`` or when its buffer overflows.
"""
from __future__ import annotations

import asyncio
import io
import logging
import re

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections

from apps.events.api.views import StreamAccepted, StreamPlan
from apps.events.stream import frames, nudge
from apps.events.stream.hub import Hub, Subscriber

logger = logging.getLogger(__name__)

STREAM_PATH = re.compile(r"^/api/events/[^/]+/stream/?$")
_SKIPPED_HEADERS = {"content-type", "content-length", "vary"}


class EventStreamApp:
    def __init__(self, fallback):
        self.fallback = fallback  # Django's ASGI handler, for every other path
        self.hub: Hub | None = None
        self._handler: BaseHandler | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] == "http" and STREAM_PATH.match(scope.get("path", "")):
            return await self._stream(scope, receive, send)
        return await self.fallback(scope, receive, send)

    # --- lifecycle -----------------------------------------------------------------------
    def _started_hub(self) -> Hub:
        if self.hub is None:
            self.hub = Hub(redis_url=settings.REDIS_URL if settings.EVENT_STREAM_NUDGE else None,
                           channel=nudge.channel(), poll_interval=settings.EVENT_STREAM_POLL_INTERVAL,
                           batch_window=settings.EVENT_STREAM_BATCH_WINDOW)
            self.hub.start()
        return self.hub

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._started_hub()  # read the outbox before the first client arrives
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.hub is not None:
                    from thirdlane.api.errors import problem

                    await self.hub.stop(problem("stream_closing"))
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- one stream ------------------------------------------------------------------------
    def _handshake(self, scope) -> object:
        """Run the request through Django's middleware and the DRF view (in a thread)."""
        if self._handler is None:
            handler = BaseHandler()
            handler.load_middleware(is_async=False)
            self._handler = handler
        close_old_connections()
        request = ASGIRequest(scope, io.BytesIO())
        request.event_stream_server = True
        try:
            response = self._handler.get_response(request)
        finally:
            close_old_connections()
        return response

    async def _stream(self, scope, receive, send):
        hub = self._started_hub()
        try:
            await asyncio.wait_for(hub.ready.wait(), timeout=settings.EVENT_STREAM_READY_TIMEOUT)
        except asyncio.TimeoutError:
            return await _plain(send, 503, _problem_body("service_unavailable",
                                                         "The event stream cannot read the outbox yet."))
        response = await sync_to_async(self._handshake, thread_sensitive=True)(scope)
        if not isinstance(response, StreamAccepted):
            headers = [(k.lower().encode(), str(v).encode()) for k, v in response.items()]
            return await _plain(send, response.status_code, response.content, headers)
        plan: StreamPlan = response.plan
        sub = Subscriber(tenant_ids=set(plan.tenant_ids) if plan.tenant_ids is not None else None,
                         reseller_id=plan.reseller_id, selectors=list(plan.selectors),
                         buffer_bytes=settings.EVENT_STREAM_CLIENT_BUFFER)
        headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
                   (b"x-accel-buffering", b"no")]  # nginx: pass each event on at once
        headers += [(k.lower().encode(), str(v).encode()) for k, v in response.items()
                    if k.lower() not in _SKIPPED_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        watcher = asyncio.create_task(_watch_disconnect(receive, sub))
        timeout = settings.EVENT_STREAM_SEND_TIMEOUT

        async def write(chunk: bytes) -> None:
            await asyncio.wait_for(send({"type": "http.response.body", "body": chunk, "more_body": True}), timeout)

        try:
            await write(frames.opening())
            if plan.last_event_id is None:
                sub.last_id = hub.horizon  # live from now: no await between this and subscribe
                hub.subscribe(sub)
            else:
                await hub.catch_up(sub, plan.last_event_id, filters=plan.outbox_filters(), send=write)
            heartbeat = settings.EVENT_STREAM_HEARTBEAT
            while sub.closed is None:
                try:
                    await asyncio.wait_for(sub.wake.wait(), heartbeat)
                except asyncio.TimeoutError:
                    await write(frames.comment())
                    continue
                chunk = sub.take()
                if chunk:
                    await write(chunk)
            if sub.closed:  # ended by the server (not by the client leaving): say why
                chunk = sub.take()  # what was queued before the end is still in order: send it
                if chunk:
                    await write(chunk)
                sub.closed["request_id"] = plan.request_id
                await write(frames.closing(sub.closed))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.TimeoutError:
            logger.info("event stream: a client stopped reading; closing it", extra={"request_id": plan.request_id})
        finally:
            hub.unsubscribe(sub)
            watcher.cancel()


async def _watch_disconnect(receive, sub: Subscriber) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            sub.close()
            return


def _problem_body(code: str, detail: str) -> bytes:
    import json

    from thirdlane.api.errors import problem

    return json.dumps(problem(code, detail)).encode()


async def _plain(send, status: int, body: bytes, headers: list | None = None) -> None:
    headers = headers or [(b"content-type", b"application/problem+json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
