"""Per-request (and per-task) context: request id, tenant, actor and the write's source.

Kept in contextvars so logs, audit records and outbox events can say whose work they are
without threading the request through every call.
"""
from __future__ import annotations

import contextvars
import uuid

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
actor_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)
# Where writes come from: "api", "admin" or "system" (commands, tasks).
source_var: contextvars.ContextVar[str] = contextvars.ContextVar("source", default="system")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def current_tenant_slug() -> str | None:
    return tenant_var.get()


def current_source() -> str:
    return source_var.get()
