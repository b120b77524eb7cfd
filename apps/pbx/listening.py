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
    """Consumes one server's events until stopped; reconnects by itself (AmiListener)."""

    def __init__(self, server, *, keepalive: float = 20.0):
        super().__init__(name=f"ami-{server.name}", daemon=True)
        self.server = server
        self.listener = AmiListener(server.ami_host, server.ami_port, server.ami_username, server.ami_secret,
                                    keepalive=keepalive, events=True)
        self.events_seen = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for message in self.listener.events():
                self.events_seen += 1
                dispatch(self.server, message)
        except AmiAuthError as exc:  # configuration error: say so, do not hammer the server
            self.error = exc
            logger.error("AMI login refused; fix the server's AMI credentials", extra={"server": self.server.name})
        except Exception as exc:
            self.error = exc
            logger.exception("AMI listener stopped", extra={"server": self.server.name})

    def stop(self) -> None:
        self.listener.stop()
