"""One poller and fan-out per stream process.

A single task reads what became final in the outbox (``outbox.Horizon``) in a dedicated thread
with its own database connection, and hands each event's frame, encoded once, to every matching
client's in-memory buffer. It reads when nudged (Redis pub/sub, published after each commit that
wrote events) and at least every ``poll_interval`` (a lost nudge or a Redis outage only delays).
Reads are coalesced: after a nudge it waits ``batch_window`` so a burst of commits is one query
and one write per client. Handshakes and replays share one more thread and connection (asgiref's
thread-sensitive executor), so a process holds two PostgreSQL connections whatever the number of
clients.

A client whose buffer passes ``buffer_bytes`` (it reads slower than its events arrive) is
dropped from the fan-out and its stream is ended with a ``slow_consumer`` problem: memory stays
bounded, and it resumes with ``Last-Event-ID`` from the database when it is ready.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

from apps.events.stream import frames, outbox
from apps.webhooks.matching import selectors_match

logger = logging.getLogger(__name__)


class Subscriber:
    """One open stream: what it wants, and the frames waiting to be written to it."""

    def __init__(self, *, tenant_ids: set[int] | None, reseller_id: int | None, selectors: list[str],
                 buffer_bytes: int):
        self.tenant_ids = tenant_ids  # None: every tenant in ``reseller_id`` (or all, for the system)
        self.reseller_id = reseller_id
        self.selectors = selectors
        self.everything = selectors == ["*"]
        # Subscribers with equal keys want exactly the same events (see Hub.publish).
        self.filter_key = (tuple(selectors), frozenset(tenant_ids) if tenant_ids is not None else None, reseller_id)
        self.buffer_bytes = buffer_bytes
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.last_id = 0  # the last event id queued or sent: nothing at or below it is sent again
        self.wake = asyncio.Event()
        self.closed: dict | None = None  # set (with a problem body, or {} when the client left) to end

    def wants(self, event) -> bool:
        if event.id <= self.last_id:
            return False
        if self.tenant_ids is not None:
            if event.tenant_id not in self.tenant_ids:
                return False
        elif self.reseller_id is not None and event.reseller_id != self.reseller_id:
            return False
        return self.everything or selectors_match(self.selectors, event.type)

    def push(self, event_id: int, frame: bytes) -> bool:
        """Queue a frame; False when the buffer is full (the hub then drops this client)."""
        if self.pending_bytes + len(frame) > self.buffer_bytes:
            return False
        self.pending.append(frame)
        self.pending_bytes += len(frame)
        self.last_id = event_id
        return True

    def take(self) -> bytes:
        chunk = b"".join(self.pending)
        self.pending, self.pending_bytes = [], 0
        self.wake.clear()
        return chunk

    def close(self, problem: dict | None = None) -> None:
        if self.closed is None:
            self.closed = problem or {}
        self.wake.set()


class Hub:
    def __init__(self, *, redis_url: str | None, channel: str, poll_interval: float = 1.0,
                 batch_window: float = 0.05):
        self.redis_url, self.channel = redis_url, channel
        self.poll_interval, self.batch_window = poll_interval, batch_window
        self.horizon = 0  # every event <= this is final and has been handed to the subscribers
        self.ready = asyncio.Event()
        self._nudged = asyncio.Event()
        self._tracker = outbox.Horizon()
        self._by_tenant: dict[int, set[Subscriber]] = {}
        self._platform: set[Subscriber] = set()
        self._tasks: list[asyncio.Task] = []
        # One thread, so one connection, for the poller.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-stream-poller")
        self.stats = {"events": 0, "polls": 0, "dropped_slow": 0, "nudges": 0}

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._poll_loop(), name="event-stream-poller")]
            if self.redis_url:
                self._tasks.append(asyncio.create_task(self._listen_loop(), name="event-stream-nudges"))

    async def stop(self, problem: dict) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for sub in [*self._platform, *(s for subs in self._by_tenant.values() for s in subs)]:
            sub.close(problem)
        self._executor.shutdown(wait=False)

    def nudge(self) -> None:
        self._nudged.set()

    @property
    def clients(self) -> int:
        return len(self._platform) + len({s for subs in self._by_tenant.values() for s in subs})

    # --- subscribers ---------------------------------------------------------------------
    def subscribe(self, sub: Subscriber) -> None:
        """Live from ``self.horizon`` on. The caller has replayed up to it: call without an
        ``await`` between that check and this, so no event falls in between."""
        if sub.tenant_ids is not None and len(sub.tenant_ids) == 1:
            tenant_id = next(iter(sub.tenant_ids))
            self._by_tenant.setdefault(tenant_id, set()).add(sub)
        else:
            # Several tenants, or all of a reseller's or the system's: they see the whole batch
            # (filtered), so their events stay in id order across tenants.
            self._platform.add(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        self._platform.discard(sub)
        for tenant_id in sub.tenant_ids or ():
            subs = self._by_tenant.get(tenant_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_tenant[tenant_id]

    def publish(self, events) -> None:
        """Hand a batch of final events (in id order) to the subscribers that want them.

        Subscribers with the same filter get the same bytes: the chunk is built once per filter
        and batch, so the cost per client is one append however many events the batch holds.
        """
        if not events:
            return
        encoded: dict[int, bytes] = {}

        def frame(event) -> bytes:
            data = encoded.get(event.id)
            if data is None:
                data = encoded[event.id] = frames.event_frame(event)
            return data

        by_tenant: dict[int | None, list] = {}
        for event in events:
            by_tenant.setdefault(event.tenant_id, []).append(event)
        slow: list[Subscriber] = []
        for tenant_id, batch in by_tenant.items():
            subs = self._by_tenant.get(tenant_id)
            if subs:
                self._deliver(subs, batch, frame, slow)
        if self._platform:
            self._deliver(self._platform, events, frame, slow)
        for sub in slow:
            self.unsubscribe(sub)
            sub.wake.set()
            self.stats["dropped_slow"] += 1

    @staticmethod
    def _deliver(subs, batch, frame, slow: list) -> None:
        first_id, last_id = batch[0].id, batch[-1].id
        chunks: dict[tuple, bytes] = {}
        for sub in subs:
            if sub.closed is not None:
                continue
            if sub.last_id >= first_id:  # cannot happen after catch_up; kept exact anyway
                chunk = b"".join(frame(e) for e in batch if sub.wants(e))
            else:
                key = sub.filter_key
                chunk = chunks.get(key)
                if chunk is None:
                    chunk = chunks[key] = b"".join(frame(e) for e in batch if sub.wants(e))
            if not chunk:
                continue
            if sub.push(last_id, chunk):
                sub.wake.set()
            else:
                sub.closed = slow_consumer_problem()  # no more frames for it
                slow.append(sub)

    # --- reading ----------------------------------------------------------------------------
    def _step(self):
        try:
            events = self._tracker.step()
        except Exception:
            connection.close()  # a broken connection is opened again on the next step
            raise
        return events, self._tracker.horizon, self._tracker.ready, self._tracker.waiting

    async def _poll_loop(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            self._nudged.clear()
            try:
                events, horizon, ready, waiting = await loop.run_in_executor(self._executor, self._step)
                failures = 0
            except Exception:
                failures += 1
                logger.warning("event stream: reading the outbox failed; retrying", exc_info=True)
                await asyncio.sleep(min(0.2 * 2 ** failures, 5.0))
                continue
            self.stats["polls"] += 1
            self.stats["events"] += len(events)
            self.publish(events)
            self.horizon = horizon
            if ready and not self.ready.is_set():
                self.ready.set()
            if waiting:
                await asyncio.sleep(0.005)  # a gap: its writers usually commit within milliseconds
                continue
            if len(events) >= outbox.BATCH:
                continue
            try:
                await asyncio.wait_for(self._nudged.wait(), timeout=self.poll_interval)
                await asyncio.sleep(self.batch_window)
            except asyncio.TimeoutError:
                pass

    async def _listen_loop(self) -> None:
        import redis.asyncio as aioredis

        backoff = 0.5
        while True:
            client = aioredis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    backoff = 0.5
                    self.nudge()  # nudges published while (re)connecting are lost: look once
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.stats["nudges"] += 1
                            self._nudged.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("event stream: Redis nudges unavailable; polling every %.1f s",
                               self.poll_interval, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await client.aclose()

    # --- replay -----------------------------------------------------------------------------
    async def catch_up(self, sub: Subscriber, after: int, *, filters: dict, send) -> None:
        """Send ``sub`` the events after ``after`` from the database, then subscribe it.

        Pages are read up to the hub's horizon (ids there are final); when the scan has reached
        the horizon the client is subscribed in the same step of the event loop, so live events
        continue exactly where the replay stopped.
        """
        from asgiref.sync import sync_to_async

        read = sync_to_async(_read_page, thread_sensitive=True)
        scanned = after
        while True:
            upto = self.horizon
            if scanned >= upto:
                sub.last_id = max(sub.last_id, scanned)
                self.subscribe(sub)
                return
            rows, scanned = await read(scanned, upto, filters)
            chunk = b"".join(frames.event_frame(e) for e in rows if sub.wants(e))
            if rows:
                sub.last_id = max(sub.last_id, rows[-1].id)
            if chunk:
                await send(chunk)
            if sub.closed is not None:
                return


def _read_page(after: int, upto: int, filters: dict, limit: int = 500):
    close_old_connections()
    rows = outbox.read_after(after, upto=upto, limit=limit, **filters)
    # The whole range up to ``upto`` was scanned when the page is not full.
    return rows, (rows[-1].id if len(rows) == limit else upto)


def slow_consumer_problem() -> dict:
    from thirdlane.api.errors import problem

    return problem("slow_consumer", "The client read slower than its events arrived; reconnect with "
                   "Last-Event-ID to resume from where it stopped.")
