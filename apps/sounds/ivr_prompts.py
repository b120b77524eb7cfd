"""Every IVR has a prompt: the portal speaks one for each IVR with eSpeak NG.

The prompt of IVR ``<id>`` is the tenant's sound ``ivr-<id>`` (source tts, linked to the IVR).
It says the IVR's ``greeting_text`` when it has one, else a menu made from its options
("Thank you for calling Acme. For Sales, press 1. ..."). The dialplan plays it when the IVR has no
recording of its own (apps/pbx/render/sounds.py), so callers never hear silence and Asterisk
never looks for a file that does not exist.

``sync(views)`` runs in every configuration push, before the files are written, on the rows the
push already loaded: IVRs whose prompt is missing, failed or says an older text are spoken now
(eSpeak NG and SoX take well under a second for a menu), prompts of deleted IVRs are removed,
and the views get the new rows so the render that follows references them.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django_tenants.utils import schema_context

from apps.sounds import storage
from apps.sounds.models import SoundFile

logger = logging.getLogger(__name__)

SPOKEN_DIGITS = {"*": "star", "#": "pound"}
KEYPAD = "1234567890*#"  # the order options are read in


def prompt_name(ivr_id: int) -> str:
    return f"ivr-{int(ivr_id)}"


def _label(view, option) -> str:
    kind, target = option.get("dest_type") or "", option.get("dest_id")
    if kind in ("extension", "voicemail") and target in view.ext_by_id:
        name = view.ext_by_id[target]["name"] or view.ext_by_id[target]["number"]
        return f"the voicemail of {name}" if kind == "voicemail" else name
    if kind == "queue" and target in view.queue_by_id:
        return view.queue_by_id[target]["name"]
    if kind == "ivr" and target in view.ivr_by_id:
        return view.ivr_by_id[target]["name"]
    if kind == "time_condition" and target in view.tc_by_id:
        return view.tc_by_id[target]["name"]
    return ""


def prompt_text(view, ivr) -> str:
    """What the portal says for ``ivr``: its greeting text, or a menu made from its options."""
    own = (ivr.get("greeting_text") or "").strip()
    if own:
        return own
    parts = [f"Thank you for calling {view.info.name.strip() or view.slug}."]
    for option in sorted(view.ivr_options.get(ivr["id"], []), key=lambda o: KEYPAD.find(o["digit"])):
        label = _label(view, option)
        digit = SPOKEN_DIGITS.get(option["digit"], option["digit"])
        parts.append(f"For {label}, press {digit}." if label else f"Press {digit}.")
    if ivr.get("direct_dial"):
        parts.append("If you know the extension of the person you are calling, you may dial it at any time.")
    if len(parts) == 1:
        parts.append("Please hold.")
    return " ".join(parts)


def _row(sound: SoundFile) -> dict:
    """The loader's form of a row (attribute names, JSON decoded)."""
    return {f.attname: getattr(sound, f.attname) for f in SoundFile._meta.concrete_fields
            if f.name not in ("created_at", "updated_at")}


def sync(views) -> int:
    """Speak the prompts of ``views``' IVRs that are missing or out of date; returns how many
    prompts changed (spoken, failed or removed). Errors of the tools end on the rows, never here."""
    from apps.sounds.services import convert_now, default_language

    language = default_language()
    changed = 0
    for view in views:
        rows = view.data.rows.get("sounds")
        if rows is None:
            continue
        auto = {r["ivr_id"]: r for r in rows if r.get("ivr_id")}
        # An IVR deleted since: its row lost the link (SET_NULL) but kept the reserved name.
        orphans = [r for r in rows if not r.get("ivr_id") and r["source"] == SoundFile.Source.TTS
                   and r["kind"] == SoundFile.Kind.PROMPT and r["name"].startswith("ivr-")
                   and r["name"][4:].isdigit()]
        todo = []
        for ivr in view.ivrs:
            text = prompt_text(view, ivr)
            row = auto.get(ivr["id"])
            if row is None or row["status"] != SoundFile.Status.READY or (row["text"], row["language"]) != (text, language):
                todo.append((ivr, text, row))
        if not todo and not orphans:
            continue
        with schema_context(view.info.schema_name):
            tenant = _TenantRef(view.info.id, view.slug)
            for row in orphans:
                SoundFile.objects.filter(pk=row["id"]).delete()
                transaction.on_commit(lambda pk=row["id"]: storage.remove(tenant.pk, pk))
                changed += 1
            for ivr, text, row in todo:
                sound = SoundFile.objects.filter(pk=row["id"]).first() if row else None
                if sound is None:
                    # A leftover of an IVR whose id came back (sequence reset) would hold the name.
                    SoundFile.objects.filter(kind=SoundFile.Kind.PROMPT, moh_class="", name=prompt_name(ivr["id"]),
                                             ivr__isnull=True, source=SoundFile.Source.TTS).delete()
                    sound = SoundFile.objects.create(name=prompt_name(ivr["id"]), kind=SoundFile.Kind.PROMPT,
                                                     source=SoundFile.Source.TTS, ivr_id=ivr["id"], text=text,
                                                     language=language)
                else:
                    sound.text, sound.language, sound.voice = text, language, ""
                    SoundFile.objects.filter(pk=sound.pk).update(text=text, language=language, voice="")
                convert_now(tenant, sound, emit=False)
                changed += 1
            view.data.rows["sounds"] = [_row(s) for s in SoundFile.objects.all()]
        if changed:
            view.__dict__.pop("_sounds_index", None)
    return changed


class _TenantRef:
    """What convert_now needs of a tenant (its id for the media path, its slug for logs)."""

    def __init__(self, pk: int, slug: str):
        self.pk, self.slug = pk, slug


def sync_server(server) -> int:
    """``sync`` for every tenant a server hosts (what its next push would do first)."""
    from apps.pbx.render import loader
    from apps.pbx.render.view import TenantView

    return sync([TenantView(d) for d in loader.load(loader.tenants_of_server(server.pk))])
