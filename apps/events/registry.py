"""The catalogue of event types.

Every app declares the events it emits (in its ``event_types`` module) with a group, a
description, a JSON schema of ``data`` and an example. ``emit_event`` refuses unknown types, so
the catalogue served at /api/webhook-events/ and in the OpenAPI ``webhooks`` section is complete
by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventType:
    type: str
    group: str
    description: str
    schema: dict = field(default_factory=dict)
    example: dict = field(default_factory=dict)
    # Delivered to system webhooks too (cross-tenant provisioning automation).
    system: bool = False


EVENT_TYPES: dict[str, EventType] = {}


def register_event_type(type: str, description: str, *, schema: dict | None = None,
                        example: dict | None = None, system: bool = False, group: str | None = None) -> EventType:
    event = EventType(
        type=type, group=group or type.split(".", 1)[0], description=description,
        schema=schema or {"type": "object"}, example=example or {}, system=system,
    )
    EVENT_TYPES[type] = event
    return event


def lifecycle(prefix: str, noun: str, *, schema: dict, example: dict, system: bool = False,
              verbs: tuple[str, ...] = ("created", "updated", "deleted")) -> list[EventType]:
    """Register ``<prefix>.created|updated|deleted`` for one object type."""
    return [
        register_event_type(f"{prefix}.{verb}", f"A {noun} was {verb}.", schema=schema, example=example,
                            system=system)
        for verb in verbs
    ]
