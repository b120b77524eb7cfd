"""Every identifier the portal puts on a PBX, in one place.

Names are tenant-qualified, so tenants sharing a server never collide:

    PJSIP endpoint/auth/aor of an extension   <number>-<tenant>      1001-acme
    PJSIP objects of a trunk                  <tenant>-trunk-<id>    acme-trunk-3
    dialplan contexts                         <tenant>-<kind>[-<id>] acme-internal, acme-ivr-4
    queue (queues.conf section)               <tenant>-<number>      acme-2000
    parking lot (res_parking.conf)            <tenant>-park-<id>     acme-park-1
    conference and its profiles (confbridge)  <tenant>-conf-<id>[-x] acme-conf-2-user
    voicemail context                         <tenant>               1001@acme

Why these cannot collide although tenant slugs contain hyphens: every suffix after the slug is
drawn from a fixed grammar whose hyphen-separated tails are never themselves a suffix (``tc-7``'s
tail ``7`` is not a suffix, ``from-did``'s tail ``did`` is not one), and extension and queue
numbers are digits only while slugs start with a letter. So for any name the tenant is the
unique slug that makes the remainder a valid suffix (``tests/pbx/test_config_names.py``).
"""
from __future__ import annotations

# Context kinds without an id, and kinds followed by an object id.
FIXED_CONTEXTS = ("internal", "extensions", "from-did", "outbound", "external", "intersite",
                  "features", "settings", "blocked", "autoanswer")
ID_CONTEXTS = ("ivr", "tc", "queue", "outrt", "from-trunk", "rg", "rgm", "fm", "blocklist", "conf", "page",
               "parked")
# Destination types whose target is a context of its own, entered at ``s,1``: the context kind.
# One table for the renderer (view.TenantView.destination) and the routing hook (apps.hooks.routing):
# a type missing from one of two lists once sent routing-hook answers to the fallback.
DESTINATION_CONTEXTS = {"queue": "queue", "ivr": "ivr", "time_condition": "tc", "ring_group": "rg",
                        "conference": "conf", "paging_group": "page"}


def endpoint(number: str, tenant: str) -> str:
    return f"{number}-{tenant}"


def trunk(trunk_id: int, tenant: str) -> str:
    return f"{tenant}-trunk-{trunk_id}"


def context(tenant: str, kind: str, object_id: int | None = None) -> str:
    if object_id is None:
        assert kind in FIXED_CONTEXTS, kind
        return f"{tenant}-{kind}"
    assert kind in ID_CONTEXTS, kind
    return f"{tenant}-{kind}-{object_id}"


def parking_lot(lot_id: int, tenant: str) -> str:
    """A res_parking.conf lot (its own namespace); its ``context`` is ``<tenant>-parked-<id>`` (filled by
    res_parking only for lots with a ``parkext``: ours are dialled through ``<tenant>-extensions``)."""
    return f"{tenant}-park-{lot_id}"


def conference(conf_id: int, tenant: str, profile: str = "") -> str:
    """A ConfBridge conference, or its bridge/user/admin profile in confbridge.conf."""
    return f"{tenant}-conf-{conf_id}" + (f"-{profile}" if profile else "")


def queue(number: str, tenant: str) -> str:
    return f"{tenant}-{number}"


def voicemail_context(tenant: str) -> str:
    return tenant


def mailbox(number: str, tenant: str) -> str:
    return f"{number}@{tenant}"


def interface(number: str, tenant: str) -> str:
    """The queue member interface of an extension (or an agent's extension)."""
    return f"PJSIP/{endpoint(number, tenant)}"
