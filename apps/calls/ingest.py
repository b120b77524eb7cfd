"""One server's event intake: events in, call records and events out, in batches.

    reader (the listener's thread)   feed(message): parse, map to a tenant, update the tracker
    flusher (a thread of ours)       every ``interval`` s, or at once when ``batch`` events are
                                     waiting: take the tracker's changes, persist them per tenant

A batch that cannot be written (the database is briefly away) is kept and merged with the next
one, so nothing is lost and nothing is written twice: call states are whole snapshots, the store
only emits events for transitions the database does not have yet.

On every (re)connect ``resync`` asks the PBX what is going on (``CoreShowChannels``,
``QueueStatus``): live channels rebuild the calls in progress, and calls the database still has
open on this server whose channels are gone are closed (the PBX restarted, or they ended while no
listener was connected).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone as dt_timezone

from django.db import close_old_connections

from apps.calls import live, store
from apps.calls.mapping import TenantMap
from apps.calls.tracker import CALL_EVENTS, MEMBER_EVENTS, CallTracker, event_filter
from apps.pbx.ami import parse_event
from apps.pbx.ami.errors import AmiActionError, AmiTimeoutError

logger = logging.getLogger(__name__)
WANTED = CALL_EVENTS | MEMBER_EVENTS


def now() -> datetime:
    return datetime.now(dt_timezone.utc)


def hosted_tenants(server) -> dict[str, object]:
    from apps.tenants.models import Tenant

    return {t.slug: t for t in Tenant.objects.select_related("reseller", "primary_server")
            .filter(primary_server_id=server.pk)}


class Ingestor:
    def __init__(self, server, *, interval: float = 0.05, batch: int = 500, tenant_refresh: float = 30.0,
                 tenants: dict | None = None):
        self.server = server
        self.interval, self.batch, self.tenant_refresh = interval, batch, tenant_refresh
        self._tenants = tenants if tenants is not None else hosted_tenants(server)
        self._tenants_at = time.monotonic()
        self.tracker = CallTracker(server.pk, TenantMap(self._tenants))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending_calls: dict = {}
        self._pending_moments: list = []
        self._pending_members: list = []
        self._since_flush = 0
        self.written_calls = 0
        self.written_events = 0
        self.flush_errors = 0
        self.last_event_at: float | None = None
        self.connected = False
        self._rate = (time.monotonic(), 0)
        self.events_per_second = 0.0
        self._thread: threading.Thread | None = None

    # --- reader side -----------------------------------------------------------------------------
    def feed(self, message) -> None:
        if message.name not in WANTED:
            return
        event = parse_event(message)
        with self._lock:
            self.tracker.feed(event, now())
            self._since_flush += 1
        self.last_event_at = time.time()
        if self._since_flush >= self.batch:
            self._wake.set()

    def resync(self, conn) -> None:
        """Called by the listener right after each login, before any queued event is read. A
        refused resync (an AMI user without the ``reporting`` class) is logged and skipped: events
        still flow, only the catch-up is missing. A lost connection propagates (the listener
        reconnects and resyncs again)."""
        self.connected = True
        self._refresh_tenants(force=True)
        try:
            self._resync(conn)
        except (AmiActionError, AmiTimeoutError) as exc:
            logger.warning("resync after login failed: %s", exc, extra={"server": self.server.name})

    def _resync(self, conn) -> None:
        try:  # only the events we read cross the wire (needs the AMI user's "system" write class)
            conn.action("Filter", Operation="Add", Filter=event_filter(), timeout=10)
        except AmiActionError as exc:
            logger.warning("the PBX refused the event filter (%s); filtering here instead", exc,
                           extra={"server": self.server.name})
        channels = conn.action("CoreShowChannels", timeout=30)
        present = set()
        with self._lock:
            for item in channels.events:
                event = parse_event(item)
                if event.get("uniqueid"):
                    present.add(event["uniqueid"])
                self.tracker.feed(event, now())
            self.tracker.close_missing(present, now())
        self.flush()
        closed = store.close_unfinished(server=self.server, tenants=self._tenants, present=present, at=now())
        if closed:
            logger.info("closed %d call(s) that ended while no listener was connected", closed,
                        extra={"server": self.server.name})
        queues = conn.action("QueueStatus", timeout=30)
        with self._lock:
            for item in queues.events:
                if item.name == "QueueMember":
                    self.tracker.feed(parse_event(item), now())
        self.flush()

    def disconnected(self, exc) -> None:
        self.connected = False
        self.report()

    # --- flusher side ----------------------------------------------------------------------------
    def start(self) -> Ingestor:
        self._thread = threading.Thread(target=self._run, name=f"ingest-{self.server.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()

    def _run(self) -> None:
        last_report = 0.0
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()
            if time.monotonic() - last_report > 1.0:
                last_report = time.monotonic()
                self.report()

    def flush(self) -> bool:
        """Write what changed since the last flush; False (and kept for the next one) on failure."""
        self._refresh_tenants()
        with self._lock:
            calls, moments, members = self.tracker.take_changes()
            self._since_flush = 0
        for state in calls:
            self._pending_calls[(state.tenant, state.linkedid)] = state
        self._pending_moments += moments
        self._pending_members += members
        if not (self._pending_calls or self._pending_moments or self._pending_members):
            return True
        try:
            result = store.persist(server=self.server, tenants=self._tenants, calls=list(self._pending_calls.values()),
                                   moments=self._pending_moments, members=self._pending_members)
        except Exception:
            self.flush_errors += 1
            logger.exception("could not write call records; keeping them for the next try",
                             extra={"server": self.server.name})
            close_old_connections()
            return False
        self.written_calls += result.calls
        self.written_events += result.events
        self._pending_calls, self._pending_moments, self._pending_members = {}, [], []
        return True

    def _refresh_tenants(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._tenants_at < self.tenant_refresh:
            return
        try:
            tenants = hosted_tenants(self.server)
        except Exception:
            logger.warning("could not reload the server's tenants", exc_info=True)
            return
        self._tenants, self._tenants_at = tenants, time.monotonic()
        with self._lock:
            self.tracker.tenants = TenantMap(tenants)

    def report(self) -> None:
        started, seen_then = self._rate
        elapsed = time.monotonic() - started
        if elapsed >= 1.0:
            self.events_per_second = round((self.tracker.seen - seen_then) / elapsed, 1)
            self._rate = (time.monotonic(), self.tracker.seen)
        live.report_listener(self.server.pk, connected=self.connected, last_event_at=self.last_event_at,
                             events=self.tracker.seen, events_per_second=self.events_per_second,
                             unmapped=self.tracker.unmapped, calls_in_progress=len(self.tracker.calls),
                             written_calls=self.written_calls, written_events=self.written_events,
                             flush_errors=self.flush_errors, reported_at=time.time())
