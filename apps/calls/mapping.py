"""Which tenant an AMI event belongs to, read from the tenant-qualified names the renderer writes.

    PJSIP/1001-acme-0000002a          extension 1001 of acme          (names.endpoint)
    PJSIP/acme-trunk-3-0000002b       trunk 3 of acme                 (names.trunk)
    Local/1001@acme-internal-00000004;1   a Local channel in acme's dialplan (names.context)
    Queue: acme-2000                  queue 2000 of acme              (names.queue)
    Interface: PJSIP/1002-acme        a queue member

A name is only trusted when its tenant is one this server hosts (``TenantMap``): anything else is
counted and dropped by the caller, never guessed onto a tenant.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from apps.pbx.render.names import FIXED_CONTEXTS, ID_CONTEXTS

_SLUG = r"[a-z][a-z0-9-]*[a-z0-9]"
_EXTENSION_ENDPOINT = re.compile(rf"^(?P<number>\d+)-(?P<tenant>{_SLUG})$")
_TRUNK_ENDPOINT = re.compile(rf"^(?P<tenant>{_SLUG})-trunk-(?P<id>\d+)$")
_QUEUE = re.compile(rf"^(?P<tenant>{_SLUG})-(?P<number>\d+)$")
_CONTEXT = re.compile(rf"^(?P<tenant>{_SLUG})-(?P<kind>{'|'.join(sorted(FIXED_CONTEXTS, key=len, reverse=True))})$"
                      rf"|^(?P<tenant2>{_SLUG})-(?P<kind2>{'|'.join(ID_CONTEXTS)})-(?P<id>\d+)$")
# PJSIP/<endpoint>-<8 hex>   Local/<exten>@<context>-<8 hex>;<1|2>
_PJSIP_CHANNEL = re.compile(r"^PJSIP/(?P<endpoint>.+)-[0-9a-f]{8}$")
_LOCAL_CHANNEL = re.compile(r"^Local/(?P<exten>[^@]*)@(?P<context>.+)-[0-9a-f]{8};[12]$")


@dataclass(frozen=True)
class Endpoint:
    tenant: str
    kind: str  # "extension" | "trunk"
    number: str = ""  # extension number
    trunk_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class Context:
    tenant: str
    kind: str  # internal, from-did, ivr, tc, queue, from-trunk, ...
    object_id: int | None = None


def parse_endpoint(name: str) -> Endpoint | None:
    if m := _EXTENSION_ENDPOINT.match(name):
        return Endpoint(m["tenant"], "extension", number=m["number"], name=name)
    if m := _TRUNK_ENDPOINT.match(name):
        return Endpoint(m["tenant"], "trunk", trunk_id=int(m["id"]), name=name)
    return None


def parse_context(name: str) -> Context | None:
    m = _CONTEXT.match(name or "")
    if m is None:
        return None
    if m["tenant"]:
        return Context(m["tenant"], m["kind"])
    return Context(m["tenant2"], m["kind2"], int(m["id"]))


def parse_queue(name: str) -> tuple[str, str] | None:
    """``acme-2000`` -> ("acme", "2000")."""
    m = _QUEUE.match(name or "")
    return (m["tenant"], m["number"]) if m else None


@dataclass(frozen=True)
class Channel:
    tenant: str | None
    kind: str  # "extension" | "trunk" | "local" | "other"
    endpoint: Endpoint | None = None
    context: Context | None = None


def parse_channel(channel: str) -> Channel:
    if m := _PJSIP_CHANNEL.match(channel or ""):
        endpoint = parse_endpoint(m["endpoint"])
        if endpoint is not None:
            return Channel(endpoint.tenant, endpoint.kind, endpoint=endpoint)
    if m := _LOCAL_CHANNEL.match(channel or ""):
        context = parse_context(m["context"])
        if context is not None:
            return Channel(context.tenant, "local", context=context)
    return Channel(None, "other")


class TenantMap:
    """The tenants one server hosts, by slug; names of any other tenant map to nothing."""

    def __init__(self, tenants: dict[str, object]):
        self.tenants = dict(tenants)

    def __contains__(self, slug: str | None) -> bool:
        return slug is not None and slug in self.tenants

    def get(self, slug: str | None):
        return self.tenants.get(slug) if slug else None

    def split(self, name: str) -> tuple[str, str] | None:
        """``acme-2000`` -> ("acme", "2000"): the longest hosted slug that prefixes the name."""
        for slug in sorted(self.tenants, key=len, reverse=True):
            if name.startswith(slug + "-") and len(name) > len(slug) + 1:
                return slug, name[len(slug) + 1:]
        return None

    def for_event(self, event: dict) -> str | None:
        """The tenant of an event: its channel, else its context, queue or member interface."""
        for key in ("channel", "dest_channel"):
            if event.get(key):
                slug = parse_channel(event[key]).tenant
                if slug in self:
                    return slug
        for key in ("context", "dest_context"):
            ctx = parse_context(event.get(key) or "")
            if ctx is not None and ctx.tenant in self:
                return ctx.tenant
        queue = self.split(event.get("queue") or "")
        if queue is not None:
            return queue[0]
        for key in ("interface", "state_interface"):
            value = event.get(key) or ""
            if value.startswith("PJSIP/"):
                endpoint = parse_endpoint(value[len("PJSIP/"):])
                if endpoint is not None and endpoint.tenant in self:
                    return endpoint.tenant
        return None
