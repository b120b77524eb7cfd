"""Which subscriptions an event goes to.

Selectors are exact types (``crm.contact.created``), groups ending in ``.*`` (``crm.*``,
``config.extension.*``) or ``*`` (everything the subscription may see). A tenant webhook sees its
own tenant's events; a system webhook sees ``system`` events (tenant, extension, DID and trunk
lifecycle, ...) of every tenant in its scope: all tenants, or one reseller's.
"""
from __future__ import annotations

from apps.events.registry import EVENT_TYPES


def selector_matches(selector: str, event_type: str) -> bool:
    if selector == "*" or selector == event_type:
        return True
    return selector.endswith(".*") and event_type.startswith(selector[:-1])


def selectors_match(selectors: list[str], event_type: str) -> bool:
    return any(selector_matches(s, event_type) for s in selectors)


def types_selected(selectors: list[str], *, system_only: bool = False) -> list[str]:
    return sorted(t for t, e in EVENT_TYPES.items()
                  if selectors_match(selectors, t) and (e.system or not system_only))


def unknown_selectors(selectors: list[str], *, system_only: bool = False) -> list[str]:
    """Selectors that match no registered type (typos), so they are refused at save time."""
    return [s for s in selectors if not types_selected([s], system_only=system_only)]


def subscription_wants(subscription, event) -> bool:
    """Does ``subscription`` receive ``event`` (an OutboxEvent)? Both may be partial rows."""
    if subscription.created_at > event.occurred_at:
        return False  # subscribed after the fact: ``recover`` replays older events on request
    if subscription.kind == "tenant":
        if event.tenant_id is None or event.tenant_id != subscription.tenant_id:
            return False
    else:
        if not event.system:
            return False
        if subscription.reseller_id is not None and event.reseller_id != subscription.reseller_id:
            return False
        if event.type.startswith("communications."):
            # Every call of every tenant: a system webhook gets them only when it names them
            # (``communications.*`` or narrower), never through a bare ``*``.
            return any(s != "*" and selectors_match([s], event.type) for s in subscription.event_types or [])
    return selectors_match(subscription.event_types or ["*"], event.type)
