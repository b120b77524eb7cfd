"""AMI events in: one listener thread per PBX server, events dispatched to handlers.

Apps react to events by registering handlers in their ``ami_handlers`` module:

    from apps.pbx.listening import on_ami_event

    @on_ami_event("QueueMemberPause")
    def agent_paused(server, event): ...

A handler gets the Server and the parsed event (``apps.pbx.ami.parse_event``); an exception in
one handler is logged and does not stop the listener or the other handlers. Handlers run on the
listener's thread: keep them short (queue a Celery task for anything slow).
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Callable

from django.db import close_old_connections

from apps.pbx.ami import AmiAuthError, AmiListener, parse_event

logger = logging.getLogger(__name__)

Handler = Callable[[object, dict], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def on_ami_event(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the named events ("*" for every event)."""
    def decorator(fn: Handler) -> Handler:
        for name in names:
            _handlers[name].append(fn)
        return fn
    return decorator


def dispatch(server, message) -> int:
    event = parse_event(message)
    name = event.get("event") or event.get("Event") or message.name
    called = 0
    for handler in [*_handlers.get(name, ()), *_handlers.get("*", ())]:
        try:
            handler(server, event)
            called += 1
        except Exception:
            logger.exception("AMI event handler failed", extra={"server": server.name, "event": name})
        finally:
            close_old_connections()
    return called


class ServerListener(threading.Thread):
    """Consumes one server's events until stopped; reconnects by itself (AmiListener).

    Only one listener per server records calls: the thread first takes the server's lease (a
    PostgreSQL advisory lock held on a connection of its own, released when the process dies), and
    a second listener for the same server waits as a standby until the lease is free. Events go
    to the call ingestor (call records, live state, ``communications.*`` events) and to the apps'
    handlers; each (re)connect resynchronises (``Ingestor.resync``).
    """

    def __init__(self, server, *, keepalive: float = 20.0, standby_retry: float = 5.0, timeout: float = 10.0,
                 reconnect_delay: float = 1.0):
        super().__init__(name=f"ami-{server.name}", daemon=True)
        from apps.calls.ingest import Ingestor
        from apps.calls.tracker import EVENT_MASK

        self.server = server
        self.ingestor = Ingestor(server)
        self.listener = AmiListener(server.ami_host, server.ami_port, server.ami_username, server.ami_secret,
                                    keepalive=keepalive, events=EVENT_MASK, timeout=timeout,
                                    reconnect_delay=reconnect_delay, on_connect=self.ingestor.resync,
                                    on_disconnect=self.ingestor.disconnected)
        self.standby_retry = standby_retry
        self.events_seen = 0
        self.error: BaseException | None = None
        self.leader = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        from apps.calls.lease import ServerLease

        lease = ServerLease(self.server.pk)
        try:
            while not lease.acquire():
                logger.info("another listener holds this server's lease; standing by",
                            extra={"server": self.server.name})
                if self._stopping.wait(self.standby_retry):
                    return
            self.leader.set()
            self.ingestor.start()
            for message in self.listener.events():
                self.events_seen += 1
                self.ingestor.feed(message)
                if _handlers:
                    dispatch(self.server, message)
        except AmiAuthError as exc:  # configuration error: say so, do not hammer the server
            self.error = exc
            logger.error("AMI login refused; fix the server's AMI credentials", extra={"server": self.server.name})
        except Exception as exc:
            self.error = exc
            logger.exception("AMI listener stopped", extra={"server": self.server.name})
        finally:
            if self.leader.is_set():
                self.ingestor.stop()
            lease.release()
            close_old_connections()

    def stop(self) -> None:
        self._stopping.set()
        self.listener.stop()
