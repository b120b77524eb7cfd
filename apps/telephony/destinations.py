"""The typed destination reference shared by DIDs, IVRs, time conditions and queues.

A destination is stored as three columns with a common prefix (``dest_type``, ``dest_id``,
``dest_number``) declared in one line: ``dest = DestinationRef("dest")``. Reading the attribute
gives a ``Destination`` value; assigning one sets the three columns. ``id`` is the primary key of
an object in the *same tenant schema* (there is no way to name another tenant's object: ids only
resolve in the current schema), ``number`` is used by ``external`` only.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class DestType(models.TextChoices):
    EXTENSION = "extension", "Extension"
    QUEUE = "queue", "Queue"
    IVR = "ivr", "IVR"
    TIME_CONDITION = "time_condition", "Time condition"
    VOICEMAIL = "voicemail", "Voicemail (of an extension)"
    EXTERNAL = "external", "External number"
    HANGUP = "hangup", "Hang up"
    RING_GROUP = "ring_group", "Ring group"
    CONFERENCE = "conference", "Conference"
    PAGING_GROUP = "paging_group", "Paging group"


# Destination types that point at an object, and the model that holds it.
TARGET_MODELS = {
    DestType.EXTENSION: "Extension",
    DestType.VOICEMAIL: "Extension",
    DestType.QUEUE: "Queue",
    DestType.IVR: "Ivr",
    DestType.TIME_CONDITION: "TimeCondition",
    DestType.RING_GROUP: "RingGroup",
    DestType.CONFERENCE: "Conference",
    DestType.PAGING_GROUP: "PagingGroup",
}


@dataclass(frozen=True)
class Destination:
    type: str = ""
    id: int | None = None
    number: str = ""

    @property
    def is_set(self) -> bool:
        return bool(self.type)

    def as_dict(self) -> dict:
        out: dict = {"type": self.type or None}
        if self.type in TARGET_MODELS:
            out["id"] = self.id
        if self.type == DestType.EXTERNAL:
            out["number"] = self.number
        return out

    def __str__(self) -> str:
        if not self.type:
            return "-"
        if self.type == DestType.EXTERNAL:
            return f"external {self.number}"
        if self.type == DestType.HANGUP:
            return "hangup"
        return f"{self.type} #{self.id}"


class DestinationRef(property):
    """Adds ``<prefix>_type``, ``<prefix>_id`` and ``<prefix>_number`` to a model.

    A ``property`` subclass so ``Model(dest=Destination(...))`` is accepted by Django's constructor.
    """

    def __init__(self, prefix: str, *, required: bool = True, verbose_name: str = ""):
        super().__init__()
        self.prefix = prefix
        self.required = required
        self.verbose_name = verbose_name or prefix.replace("_", " ")

    def contribute_to_class(self, cls, name):
        p = self.prefix
        cls.add_to_class(f"{p}_type", models.CharField(
            f"{self.verbose_name} type", max_length=16, choices=DestType.choices, blank=not self.required,
            default="" if not self.required else DestType.HANGUP))
        cls.add_to_class(f"{p}_id", models.PositiveIntegerField(f"{self.verbose_name} id", null=True, blank=True))
        cls.add_to_class(f"{p}_number", models.CharField(f"{self.verbose_name} number", max_length=32, blank=True))
        self.name = name
        setattr(cls, name, self)
        refs = cls.__dict__.get("destination_refs")
        if refs is None:
            refs = []
            cls.destination_refs = refs
        refs.append(self)

    def columns(self) -> tuple[str, str, str]:
        return f"{self.prefix}_type", f"{self.prefix}_id", f"{self.prefix}_number"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        t, i, n = self.columns()
        return Destination(getattr(obj, t) or "", getattr(obj, i), getattr(obj, n) or "")

    def __set__(self, obj, value: Destination | dict | None):
        if value is None:
            value = Destination()
        if isinstance(value, dict):
            value = Destination(value.get("type") or "", value.get("id"), value.get("number") or "")
        t, i, n = self.columns()
        setattr(obj, t, value.type or "")
        setattr(obj, i, value.id if value.type in TARGET_MODELS else None)
        setattr(obj, n, value.number if value.type == DestType.EXTERNAL else "")
