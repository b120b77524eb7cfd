"""Every write to a tenant's sound files: ``sound_<action>(*, actor, tenant, ...)``.

An upload is checked completely before anything is stored: the name's extension (WAV, MP3,
OGG), the size (``SOUNDS_MAX_UPLOAD_BYTES``), the content's magic bytes against the extension,
SoX's reading of the header and the length (``SOUNDS_MAX_PROMPT_SECONDS`` /
``SOUNDS_MAX_MOH_SECONDS``). A refused file leaves no row and no file behind. An accepted one is
stored as the row's source and converted by the ``sounds.convert`` task (queued on commit), which
moves the row from ``pending`` through ``converting`` to ``ready`` or ``failed`` and emits
``config.sound.updated`` (so the servers hosting the tenant get a push).
"""
from __future__ import annotations

import logging
import os
import re
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.services import snapshot
from apps.sounds import audio, storage
from apps.sounds.models import CLASS_NAME, CLASS_PATTERN, NAME, NAME_PATTERN, RESERVED_NAME, SoundFile
from apps.telephony.services.common import check_fields, check_limit, clean, record_created, record_updated, \
    save, tenant_service
from thirdlane import services as kernel
from thirdlane.api.errors import Conflict, DomainError, InUse, Invalid

logger = logging.getLogger(__name__)

PREFIX = "config.sound"
UPDATE_FIELDS = {"name", "moh_class", "text", "language", "voice"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --- limits (settings) ---------------------------------------------------------------------------

def max_upload_bytes() -> int:
    return int(getattr(settings, "SOUNDS_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))


def max_seconds(kind: str) -> int:
    if kind == SoundFile.Kind.MOH:
        return int(getattr(settings, "SOUNDS_MAX_MOH_SECONDS", 1800))
    return int(getattr(settings, "SOUNDS_MAX_PROMPT_SECONDS", 300))


def max_text_chars() -> int:
    return int(getattr(settings, "SOUNDS_TTS_MAX_CHARS", 2000))


def default_language() -> str:
    return getattr(settings, "SOUNDS_TTS_LANGUAGE", "en-us")


def tools_error(exc: audio.ToolMissing, field: str | None = None) -> DomainError:
    return DomainError(str(exc), code="sound_tools_missing", field=field)


# --- payloads ------------------------------------------------------------------------------------

def sound_payload(sound: SoundFile) -> dict[str, Any]:
    return {"id": sound.pk, "name": sound.name, "kind": sound.kind, "moh_class": sound.moh_class,
            "source": sound.source, "status": sound.status, "duration_ms": sound.duration_ms,
            "checksum": sound.checksum, "error": sound.error, "ivr": sound.ivr_id}


# --- checks --------------------------------------------------------------------------------------

def _identity(sound: SoundFile, *, name: str, kind: str, moh_class: str) -> None:
    sound.name, sound.kind, sound.moh_class = name, kind, moh_class or ""
    if kind not in SoundFile.Kind.values:
        raise Invalid(f"kind must be one of {', '.join(SoundFile.Kind.values)}.", field="kind")
    if kind == SoundFile.Kind.MOH and not sound.moh_class:
        raise Invalid("A music-on-hold file needs its class (moh_class).", field="moh_class")
    if kind == SoundFile.Kind.PROMPT and sound.moh_class:
        raise Invalid("Only music-on-hold files have a class.", field="moh_class")
    if sound.ivr_id is None and re.match(RESERVED_NAME, name or ""):
        raise Invalid("Names ivr-<number> are kept for the prompts spoken for IVRs.", field="name")
    # Exactly the patterns (a RegexValidator's "$" would also let a trailing line break through).
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise Invalid(NAME.message, field="name")
    if sound.moh_class and not re.fullmatch(CLASS_PATTERN, sound.moh_class):
        raise Invalid(CLASS_NAME.message, field="moh_class")
    clean(sound, exclude=["ivr"])
    taken = SoundFile.objects.filter(kind=kind, moh_class=sound.moh_class, name=name).exclude(pk=sound.pk)
    if taken.exists():
        where = f"class {sound.moh_class}" if kind == SoundFile.Kind.MOH else "this tenant's prompts"
        raise Conflict(f"A sound named {name!r} already exists in {where}.", code="duplicate", field="name")


def _count_limit(tenant) -> None:
    limit = getattr(settings, "SOUNDS_MAX_PER_TENANT", 500)
    check_limit(tenant, current=SoundFile.objects.filter(ivr__isnull=True).count(), adding=1, limit=limit,
                noun="sound files", field="name")


def ivrs_using(sound: SoundFile) -> list[str]:
    """IVRs whose greeting is this prompt (by name)."""
    from apps.telephony.models import Ivr

    if sound.kind != SoundFile.Kind.PROMPT or sound.ivr_id is not None:
        return []
    return [f"IVR {ivr.name}" for ivr in Ivr.objects.filter(greeting_recording=sound.name).order_by("pk")[:20]]


def _ensure_unused(sound: SoundFile) -> None:
    users = ivrs_using(sound)
    if users:
        raise InUse(f"Sound {sound.name} is the greeting of: {', '.join(users)}.", extra={"used_by": users})


def _managed(sound: SoundFile) -> None:
    if sound.ivr_id is not None:
        raise Conflict(f"{sound.name} is spoken by the portal for IVR {sound.ivr_id}: change the IVR's greeting_text "
                       "or give it a greeting_recording instead.", code="conflict")


def _text(value: str) -> str:
    value = value or ""
    if len(value) > max_text_chars():
        raise Invalid(f"At most {max_text_chars()} characters.", field="text")
    if _CONTROL.search(value):
        raise Invalid("Control characters are not allowed (tabs and line breaks are).", field="text")
    if not value.strip():
        raise Invalid("Give the text to speak.", field="text")
    return value.strip()


def _voice(language: str, voice: str) -> tuple[str, str]:
    language = language or default_language()
    voice = voice or ""
    try:
        if language not in audio.languages():
            raise Invalid(f"eSpeak NG has no language {language!r} here (e.g. en-us, en-gb, fr-fr, de).",
                          field="language")
        if voice and voice not in audio.voices():
            raise Invalid(f"eSpeak NG has no voice variant {voice!r} here (e.g. f3, m1, klatt).", field="voice")
    except audio.ToolMissing as exc:
        raise tools_error(exc) from None
    return language, voice


# --- uploads -------------------------------------------------------------------------------------

def _chunks(upload):
    if isinstance(upload, (bytes, bytearray)):
        yield bytes(upload)
    elif hasattr(upload, "chunks"):
        yield from upload.chunks()
    else:
        yield from iter(lambda: upload.read(1 << 20), b"")


def _size(upload) -> int | None:
    if isinstance(upload, (bytes, bytearray)):
        return len(upload)
    return getattr(upload, "size", None)


def _store_incoming(upload, ext: str) -> tuple[Path, int, bytes]:
    """The upload in a private temporary file (never past the size limit), its size and first bytes."""
    incoming = storage.media_root() / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / f"{uuid.uuid4().hex}.{ext}"
    limit, size, head = max_upload_bytes(), 0, b""
    try:
        with open(path, "wb") as handle:
            for chunk in _chunks(upload):
                size += len(chunk)
                if size > limit:
                    raise _too_large()
                if len(head) < 64:
                    head += chunk[:64 - len(head)]
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, head


def _too_large() -> DomainError:
    return DomainError(f"The file is larger than {max_upload_bytes() // (1024 * 1024)} MiB.", code="payload_too_large",
                       field="file")


CONTENT_TYPES = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
                 "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/ogg": "ogg", "application/ogg": "ogg"}


def upload_format(file_name: str, content_type: str = "") -> str:
    """The format a file claims: its name's extension, or without one its part's Content-Type."""
    ext = os.path.splitext(file_name or "")[1].lower().lstrip(".")
    if not ext:
        ext = CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower(), "")
    return ext


def check_upload(upload, file_name: str, kind: str) -> tuple[Path, str, int, audio.AudioInfo]:
    """Everything about an upload, before it is stored: (temporary path, format, bytes, info).
    The caller owns the temporary file (and must remove it on any later failure)."""
    ext = upload_format(file_name, getattr(upload, "content_type", "") or "")
    if ext not in audio.UPLOAD_FORMATS:
        raise DomainError(f"{file_name or 'The file'} is not a WAV, MP3 or OGG file (by its name).",
                          code="sound_unsupported_format", field="file")
    size = _size(upload)
    if size is not None and size > max_upload_bytes():
        raise _too_large()
    try:
        audio.tool("sox")
    except audio.ToolMissing as exc:
        raise tools_error(exc, "file") from None
    path, size, head = _store_incoming(upload, ext)
    try:
        if size == 0:
            raise DomainError("The file is empty.", code="sound_not_audio", field="file")
        found = audio.sniff(head)
        if found != ext:
            seen = f"it looks like {found.upper()}" if found else "it is not audio"
            raise DomainError(f"The file is named .{ext} but its content is not {ext.upper()} ({seen}).",
                              code="sound_not_audio", field="file")
        try:
            info = audio.probe(path, ext)
        except audio.NotAudio as exc:
            raise DomainError(f"The file cannot be read as audio: {exc}.", code="sound_not_audio",
                              field="file") from None
        except audio.ToolMissing as exc:
            raise tools_error(exc, "file") from None
        limit = max_seconds(kind)
        if info.duration > limit:
            raise DomainError(f"The sound lasts {info.duration:.0f} s; {'music on hold' if kind == 'moh' else 'a prompt'} "
                              f"may last at most {limit} s.", code="sound_too_long", field="file",
                              extra={"duration_seconds": round(info.duration, 1), "max_seconds": limit})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, ext, size, info


@tenant_service
def sound_upload(*, actor, tenant, name: str, upload, file_name: str = "", kind: str = SoundFile.Kind.PROMPT,
                 moh_class: str = "") -> SoundFile:
    """Store an uploaded WAV/MP3/OGG as a pending sound and queue its conversion."""
    sound = SoundFile(source=SoundFile.Source.UPLOAD)
    _identity(sound, name=name, kind=kind, moh_class=moh_class)
    _count_limit(tenant)
    path, fmt, size, info = check_upload(upload, file_name or getattr(upload, "name", ""), kind)
    try:
        sound.original_name = os.path.basename(file_name or getattr(upload, "name", "") or "")[:255]
        sound.original_format, sound.original_bytes = fmt, size
        sound.duration_ms = int(info.duration * 1000)
        save(sound, field="name")
        target = storage.source_path(tenant.pk, sound.pk, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    record_created(actor=actor, tenant=tenant, instance=sound, prefix=PREFIX, payload=sound_payload(sound))
    queue_conversion(tenant, sound)
    return sound


@tenant_service
def sound_tts_create(*, actor, tenant, name: str, text: str, language: str = "", voice: str = "") -> SoundFile:
    """A prompt spoken by eSpeak NG (pending; the ``sounds.convert`` task speaks and converts it)."""
    sound = SoundFile(source=SoundFile.Source.TTS)
    _identity(sound, name=name, kind=SoundFile.Kind.PROMPT, moh_class="")
    _count_limit(tenant)
    sound.text = _text(text)
    sound.language, sound.voice = _voice(language, voice)
    save(sound, field="name")
    record_created(actor=actor, tenant=tenant, instance=sound, prefix=PREFIX, payload=sound_payload(sound))
    queue_conversion(tenant, sound)
    return sound


@tenant_service
def sound_update(*, actor, tenant, instance: SoundFile, **fields: Any) -> SoundFile:
    """Rename, move to another MOH class, or (text to speech) change what is said: then it is
    spoken again."""
    check_fields(fields, UPDATE_FIELDS)
    sound = SoundFile.objects.select_for_update().get(pk=instance.pk)
    _managed(sound)
    before = snapshot(sound)
    name, moh_class = fields.get("name", sound.name), fields.get("moh_class", sound.moh_class)
    if name != sound.name:
        users = ivrs_using(sound)
        if users:
            raise InUse(f"Sound {sound.name} is the greeting of: {', '.join(users)}; change their greeting_recording "
                        "first.", extra={"used_by": users})
    if "moh_class" in fields and sound.kind != SoundFile.Kind.MOH:
        raise Conflict(f"{sound.name} is a prompt: only music-on-hold files have a class.", code="invalid_state",
                       field="moh_class")
    _identity(sound, name=name, kind=sound.kind, moh_class=moh_class)
    speech = {k: fields[k] for k in ("text", "language", "voice") if k in fields}
    again = False
    if speech:
        if sound.source != SoundFile.Source.TTS:
            raise Conflict(f"{sound.name} was uploaded: only text-to-speech prompts have a text, language and voice.",
                           code="invalid_state", field=sorted(speech)[0])
        text = _text(speech.get("text", sound.text))
        language, voice = _voice(speech.get("language", sound.language), speech.get("voice", sound.voice))
        again = (text, language, voice) != (sound.text, sound.language, sound.voice)
        sound.text, sound.language, sound.voice = text, language, voice
        if again:
            sound.status, sound.progress, sound.error = SoundFile.Status.PENDING, 0, ""
    save(sound, field="name")
    record_updated(actor=actor, tenant=tenant, instance=sound, before=before, prefix=PREFIX,
                   payload=sound_payload(sound))
    if again:
        queue_conversion(tenant, sound)
    return sound


@tenant_service
def sound_delete(*, actor, tenant, instance: SoundFile) -> None:
    _managed(instance)
    tenant_id, sound_id = tenant.pk, instance.pk
    kernel.delete(actor=actor, tenant=tenant, instance=instance, prefix=PREFIX, payload=sound_payload(instance),
                  check=_ensure_unused)
    transaction.on_commit(lambda: storage.remove(tenant_id, sound_id))


def queue_conversion(tenant, sound: SoundFile) -> None:
    from apps.sounds.tasks import convert

    tenant_id, sound_id = tenant.pk, sound.pk
    transaction.on_commit(lambda: convert.delay(tenant_id, sound_id))


# --- conversion (the task's work) ----------------------------------------------------------------

def _progress(sound: SoundFile, **fields) -> None:
    for key, value in fields.items():
        setattr(sound, key, value)
    SoundFile.objects.filter(pk=sound.pk).update(**fields)


def convert_now(tenant, sound: SoundFile, *, emit: bool = True) -> SoundFile:
    """Speak (TTS) and convert ``sound`` in the current schema; ready or failed, never raises
    for a bad file or a missing tool (the error is on the row)."""
    directory = storage.sound_dir(tenant.pk, sound.pk)
    _progress(sound, status=SoundFile.Status.CONVERTING, progress=10, error="")
    spoken = directory / ".speech.wav"
    try:
        if sound.source == SoundFile.Source.TTS:
            directory.mkdir(parents=True, exist_ok=True)
            audio.synthesise(sound.text, spoken, language=sound.language or default_language(), voice=sound.voice)
            source, fmt = spoken, "wav"
            _progress(sound, progress=40)
        else:
            fmt = sound.original_format
            source = storage.source_path(tenant.pk, sound.pk, fmt)
            if not source.exists():
                raise audio.ConversionFailed("the uploaded file is no longer stored; upload it again")
        outputs = audio.convert(source, directory, source_format=fmt)
        _progress(sound, progress=80)
        info = audio.wav_info(outputs["wav"])
        if (info.rate, info.channels) != (audio.RATE, 1):
            raise audio.ConversionFailed(f"sox wrote {info.rate} Hz, {info.channels} channels")
        if info.duration > max_seconds(sound.kind):
            raise audio.ConversionFailed(f"the sound lasts {info.duration:.0f} s; at most {max_seconds(sound.kind)} s")
        files = {f: {"sha256": storage.sha256(p), "bytes": p.stat().st_size} for f, p in sorted(outputs.items())}
        result = dict(status=SoundFile.Status.READY, progress=100, error="", duration_ms=int(info.duration * 1000),
                      checksum=files["wav"]["sha256"], files=files, converted_at=timezone.now())
    except audio.AudioError as exc:
        logger.warning("sound %s of tenant %s not converted: %s", sound.pk, tenant.slug, exc)
        result = dict(status=SoundFile.Status.FAILED, error=str(exc)[:2000])
    finally:
        spoken.unlink(missing_ok=True)
    with transaction.atomic():
        _progress(sound, **result)
        if sound.source == SoundFile.Source.UPLOAD and sound.status == SoundFile.Status.READY:
            # The converted files are what is kept; the upload is not needed any more.
            transaction.on_commit(lambda: storage.source_path(tenant.pk, sound.pk, sound.original_format)
                                  .unlink(missing_ok=True))
        if emit and sound.ivr_id is None:
            from apps.events.services import emit_event

            emit_event(type=f"{PREFIX}.updated", data=sound_payload(sound), tenant=tenant)
    return sound


def convert(tenant_id: int, sound_id: int) -> str:
    """The ``sounds.convert`` task's body: convert a pending (or interrupted) sound."""
    from apps.tenants.models import Tenant

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "gone"
    with tenant_context(tenant):
        sound = SoundFile.objects.filter(pk=sound_id).first()
        if sound is None:
            return "gone"
        if sound.status in (SoundFile.Status.READY, SoundFile.Status.FAILED):
            return sound.status  # a repeated delivery of a job that finished
        return convert_now(tenant, sound).status
