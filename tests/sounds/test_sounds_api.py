"""/api/sounds/<tenant>/: uploads checked before anything is stored, real conversions by SoX,
text to speech by eSpeak NG, downloads, updates, deletes and tenant isolation."""
from __future__ import annotations

import os
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.events.models import OutboxEvent
from apps.sounds import storage
from apps.sounds.models import SoundFile
from apps.sounds.tasks import convert
from apps.telephony import services as tel
from tests.helpers.isolation import check_tenant_isolation
from tests.sounds.conftest import speak, stored_files

pytestmark = pytest.mark.django_db

BASE = "/api/sounds/acme/"


def upload(client, name: str, content: bytes, *, sound_name: str = "welcome", **fields):
    data = {"file": SimpleUploadedFile(name, content), "name": sound_name, **fields}
    return client.post(BASE, data, format="multipart")


def problem(response, status: int, code: str, field: str | None = "file") -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    if field:
        assert field in body.get("errors", {}), body
    return body


def run_conversion(world, sound_id: int) -> SoundFile:
    """What the worker does for the queued ``sounds.convert`` task."""
    from django.test import TestCase
    from django_tenants.utils import tenant_context

    with TestCase.captureOnCommitCallbacks(execute=True):  # the upload is removed once the result commits
        convert.apply(args=[world.acme.pk, sound_id])

    with tenant_context(world.acme):
        return SoundFile.objects.get(pk=sound_id)


def assert_asterisk_wav(path) -> wave.Wave_read:
    """8 kHz, mono, 16-bit signed PCM (format tag 1): what Asterisk's format_wav plays."""
    with open(path, "rb") as handle:
        header = handle.read(36)
    assert header[:4] == b"RIFF" and header[8:12] == b"WAVE"
    assert int.from_bytes(header[20:22], "little") == 1, "PCM, not WAVE_FORMAT_EXTENSIBLE"
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        return wav


# --- conversions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name,kw", [
    ("tone.wav", {"rate": 44100, "channels": 2}),
    ("tone.mp3", {"rate": 44100, "channels": 2}),
    ("tone.ogg", {"rate": 48000, "channels": 1}),
    ("low.wav", {"rate": 16000, "channels": 1}),
])
def test_a_real_upload_is_converted_to_what_asterisk_plays(api, world, media, audio, file_name, kw):
    content = audio(file_name, seconds=1.5, **kw)
    response = upload(api("acme"), file_name, content)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["source"] == "upload" and body["original_name"] == file_name
    assert body["original_format"] == file_name.rsplit(".", 1)[1] and body["original_bytes"] == len(content)
    assert response["Location"] == f"{BASE}{body['id']}/"
    assert stored_files(media) == [f"{world.acme.pk}/{body['id']}/source.{body['original_format']}"]

    sound = run_conversion(world, body["id"])
    assert sound.status == "ready" and sound.progress == 100 and sound.error == ""
    wav_path = storage.converted_path(world.acme.pk, sound.pk, "wav")
    wav = assert_asterisk_wav(wav_path)
    assert abs(wav.getnframes() - 12000) <= 400  # 1.5 s at 8 kHz (MP3 adds a little padding)
    assert abs(sound.duration_ms - 1500) <= 60
    ulaw = storage.converted_path(world.acme.pk, sound.pk, "ulaw")
    assert ulaw.stat().st_size == wav.getnframes()  # one mu-law byte per sample, no header
    assert sound.checksum == storage.sha256(wav_path) == sound.files["wav"]["sha256"]
    assert sound.files["ulaw"]["bytes"] == ulaw.stat().st_size
    # The upload itself is not kept once converted.
    assert stored_files(media) == [f"{world.acme.pk}/{sound.pk}/sound.ulaw", f"{world.acme.pk}/{sound.pk}/sound.wav"]

    detail = api("acme").get(f"{BASE}{sound.pk}/").json()
    assert detail["status"] == "ready" and detail["download_url"] == f"{BASE}{sound.pk}/download"
    download = api("acme_ro").get(f"{BASE}{sound.pk}/download")
    assert download.status_code == 200 and download["Content-Type"] == "audio/wav"
    assert b"".join(download.streaming_content) == wav_path.read_bytes()
    mulaw = api("acme").get(f"{BASE}{sound.pk}/download?codec=ulaw")
    assert mulaw["Content-Type"] == "audio/basic" and b"".join(mulaw.streaming_content) == ulaw.read_bytes()


def test_a_file_name_without_extension_takes_the_parts_content_type(api, world, media, audio):
    part = SimpleUploadedFile("welcome", audio("w.mp3", seconds=0.3), content_type="audio/mpeg")
    response = api("acme").post(BASE, {"file": part, "name": "welcome"}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["original_format"] == "mp3"


def test_speech_in_a_wav_is_converted_and_events_follow_the_conversion(api, world, media, tmp_path):
    content = speak(tmp_path / "hello.wav", "Hello, you have reached Acme.").read_bytes()
    response = upload(api("acme"), "hello.wav", content, sound_name="hello")
    assert response.status_code == 202
    created = OutboxEvent.objects.get(type="config.sound.created")
    assert created.data["name"] == "hello" and created.data["status"] == "pending"
    sound = run_conversion(world, response.json()["id"])
    assert_asterisk_wav(storage.converted_path(world.acme.pk, sound.pk, "wav"))
    updated = OutboxEvent.objects.get(type="config.sound.updated")
    assert updated.data["status"] == "ready" and updated.data["checksum"] == sound.checksum
    assert updated.tenant_id == world.acme.pk


# --- refusals: nothing stored ------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
NOT_AUDIO_CASES = [
    ("notes.txt", b"hello, this is text", "sound_unsupported_format"),
    ("picture.png", PNG, "sound_unsupported_format"),
    ("welcome", b"RIFF", "sound_unsupported_format"),  # no extension
    ("fake.wav", b"this is just text with a .wav name" * 10, "sound_not_audio"),
    ("fake.ogg", PNG, "sound_not_audio"),
    ("noise.mp3", b"\xff\xfb\x90\x00" + os.urandom(4000), "sound_not_audio"),  # an MPEG sync word, then garbage
    ("broken.wav", b"RIFF\x24\x00\x00\x00WAVE" + b"junk" * 50, "sound_not_audio"),  # a RIFF header, no audio
    ("empty.wav", b"", "sound_not_audio"),
]


@pytest.mark.parametrize("file_name,content,code", NOT_AUDIO_CASES, ids=[c[0] for c in NOT_AUDIO_CASES])
def test_files_that_are_not_audio_are_refused_and_nothing_is_stored(api, world, media, file_name, content, code):
    body = problem(upload(api("acme"), file_name, content), 400, code)
    assert body["detail"]
    assert stored_files(media) == []
    assert api("acme").get(BASE).json() == []
    assert not OutboxEvent.objects.filter(type__startswith="config.sound").exists()


def test_audio_of_another_format_than_its_name_says_is_refused(api, world, media, audio):
    mp3 = audio("real.mp3", seconds=0.5)
    body = problem(upload(api("acme"), "song.wav", mp3), 400, "sound_not_audio")
    assert "looks like MP3" in body["detail"]
    assert stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused(api, world, media, audio, settings):
    settings.SOUNDS_MAX_UPLOAD_BYTES = 300_000  # under the file, but the body fits the multipart allowance
    content = audio("big.wav", seconds=1.0)  # 44.1 kHz stereo 32-bit: 353 kB
    body = problem(upload(api("acme"), "big.wav", content), 413, "payload_too_large")
    assert "larger than" in body["detail"]
    assert stored_files(media) == []
    # A body far over the limit is refused from its Content-Length, before it is read.
    settings.SOUNDS_MAX_UPLOAD_BYTES = 10_000
    problem(upload(api("acme"), "big.wav", content), 413, "payload_too_large", field=None)
    assert stored_files(media) == [] and api("acme").get(BASE).json() == []


def test_a_sound_over_the_length_limit_is_refused(api, world, media, audio, settings):
    settings.SOUNDS_MAX_PROMPT_SECONDS = 2
    settings.SOUNDS_MAX_MOH_SECONDS = 10
    content = audio("long.wav", seconds=3, rate=8000, channels=1)
    body = problem(upload(api("acme"), "long.wav", content), 400, "sound_too_long")
    assert body["duration_seconds"] == 3.0 and body["max_seconds"] == 2
    assert stored_files(media) == []
    # Music on hold has its own, longer limit.
    response = upload(api("acme"), "long.wav", content, sound_name="long", kind="moh", moh_class="jazz")
    assert response.status_code == 202, response.content


def test_upload_fields_are_checked(api, world, media, audio):
    content = audio("ok.wav", seconds=0.2, rate=8000, channels=1)
    client = api("acme")
    problem(upload(client, "ok.wav", content, kind="moh"), 400, "validation_error", field="moh_class")
    problem(upload(client, "ok.wav", content, moh_class="jazz"), 400, "validation_error", field="moh_class")
    problem(upload(client, "ok.wav", content, sound_name="Welcome!"), 400, "validation_error", field="name")
    problem(upload(client, "ok.wav", content, sound_name="ivr-7"), 400, "validation_error", field="name")
    problem(upload(client, "ok.wav", content, moh_class="no-hyphens", kind="moh"), 400, "validation_error",
            field="moh_class")
    problem(upload(client, "ok.wav", content, colour="blue"), 400, "validation_error", field="colour")
    missing = client.post(BASE, {"name": "x"}, format="multipart")
    problem(missing, 400, "validation_error", field="file")
    as_json = client.post(BASE, {"name": "x"})
    problem(as_json, 415, "unsupported_media_type", field=None)
    assert stored_files(media) == []
    assert upload(client, "ok.wav", content).status_code == 202
    problem(upload(client, "ok.wav", content), 409, "duplicate", field="name")
    # The same name in another music-on-hold class, or as music on hold, is another sound.
    assert upload(client, "ok.wav", content, kind="moh", moh_class="jazz").status_code == 202
    assert upload(client, "ok.wav", content, kind="moh", moh_class="rock").status_code == 202
    classes = client.get(f"{BASE}moh-classes").json()
    assert classes == [{"name": "jazz", "pbx_name": "acme-jazz", "files": 1, "ready": 0},
                       {"name": "rock", "pbx_name": "acme-rock", "files": 1, "ready": 0}]


def test_missing_converter_is_a_clear_503_and_stores_nothing(api, world, media, audio, settings):
    settings.SOUNDS_SOX = "/nonexistent/sox"
    body = problem(upload(api("acme"), "ok.wav", audio("ok.wav", seconds=0.2)), 503, "sound_tools_missing")
    assert "sox is not installed" in body["detail"] and "apt-get install sox" in body["detail"]
    assert stored_files(media) == []


def test_a_conversion_without_its_tool_fails_with_the_reason(api, world, media, settings):
    response = api("acme").post(f"{BASE}tts", {"name": "hours", "text": "We are open nine to five."})
    assert response.status_code == 202
    settings.SOUNDS_ESPEAK = "/nonexistent/espeak-ng"
    sound = run_conversion(world, response.json()["id"])
    assert sound.status == "failed" and "espeak-ng is not installed" in sound.error
    assert api("acme").get(f"{BASE}{sound.pk}/download").json()["code"] == "sound_not_ready"


# --- text to speech ------------------------------------------------------------------------------

def test_text_to_speech_makes_a_prompt(api, world, media):
    client = api("acme")
    response = client.post(f"{BASE}tts", {"name": "hours", "text": "We are open from nine to five.",
                                          "language": "en-gb", "voice": "f3"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["source"], body["kind"], body["status"], body["language"], body["voice"]) == \
        ("tts", "prompt", "pending", "en-gb", "f3")
    sound = run_conversion(world, body["id"])
    assert sound.status == "ready", sound.error
    wav = assert_asterisk_wav(storage.converted_path(world.acme.pk, sound.pk, "wav"))
    assert wav.getnframes() > 8000  # more than a second of speech
    first = sound.checksum
    # A new text is spoken again.
    response = client.patch(f"{BASE}{sound.pk}/", {"text": "We are closed today."})
    assert response.status_code == 200 and response.json()["status"] == "pending"
    sound = run_conversion(world, sound.pk)
    assert sound.status == "ready" and sound.checksum != first


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "text": "Hello", "language": "xx-nowhere"}, "language"),
    ({"name": "x", "text": "Hello", "voice": "robot9000"}, "voice"),
    ({"name": "x", "text": "   "}, "text"),
    ({"name": "x", "text": "a" * 2001}, "text"),
    ({"name": "x", "text": "bell\x07"}, "text"),
    ({"name": "ivr-1", "text": "Hello"}, "name"),
    ({"name": "x\n", "text": "Hello"}, "name"),
    ({"name": "x", "text": "Hello", "language": " en-us"}, "language"),
])
def test_text_to_speech_fields_are_checked(api, world, media, body, field):
    problem(api("acme").post(f"{BASE}tts", body), 400, "validation_error", field=field)
    assert api("acme").get(BASE).json() == []


def test_only_speech_has_a_text(api, world, media, audio):
    sound_id = upload(api("acme"), "ok.wav", audio("ok.wav", seconds=0.2)).json()["id"]
    problem(api("acme").patch(f"{BASE}{sound_id}/", {"text": "Hi"}), 409, "invalid_state", field="text")
    problem(api("acme").patch(f"{BASE}{sound_id}/", {"moh_class": "jazz"}), 409, "invalid_state",
            field="moh_class")
    renamed = api("acme").patch(f"{BASE}{sound_id}/", {"name": "hello"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "hello"


# --- in use, deletes ---------------------------------------------------------------------------------

def test_a_prompt_an_ivr_plays_cannot_be_renamed_or_deleted(api, world, media, system_actor,
                                                           django_capture_on_commit_callbacks):
    client = api("acme")
    sound_id = client.post(f"{BASE}tts", {"name": "welcome", "text": "Welcome."}).json()["id"]
    run_conversion(world, sound_id)
    ivr = tel.ivr_create(actor=system_actor, tenant=world.acme, name="Main", greeting_recording="welcome")
    body = problem(client.delete(f"{BASE}{sound_id}/"), 409, "in_use", field=None)
    assert body["used_by"] == ["IVR Main"]
    problem(client.patch(f"{BASE}{sound_id}/", {"name": "other"}), 409, "in_use", field=None)
    tel.ivr_update(actor=system_actor, tenant=world.acme, instance=ivr, greeting_recording="")
    assert stored_files(media)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{BASE}{sound_id}/").status_code == 204
    assert stored_files(media) == []
    assert OutboxEvent.objects.filter(type="config.sound.deleted", data__name="welcome").exists()


def test_prompts_the_portal_speaks_for_ivrs_are_not_edited_through_the_api(api, world, media, system_actor):
    from apps.sounds.ivr_prompts import sync_server
    from tests.pbx.golden.demo import host_on, make_server

    server = make_server(name="pbx-s", config_dir="/tmp/none", sounds_dir="/tmp/none-sounds")
    host_on(server, world.acme)
    ivr = tel.ivr_create(actor=system_actor, tenant=world.acme, name="Main", greeting_text="Hello there.")
    assert sync_server(server) == 1
    prompts = api("acme").get(f"{BASE}?source=tts").json()
    assert [(p["name"], p["ivr"], p["text"], p["status"]) for p in prompts] == \
        [(f"ivr-{ivr.pk}", ivr.pk, "Hello there.", "ready")]
    problem(api("acme").delete(f"{BASE}{prompts[0]['id']}/"), 409, "conflict", field=None)
    problem(api("acme").patch(f"{BASE}{prompts[0]['id']}/", {"text": "x"}), 409, "conflict", field=None)


# --- tenants -------------------------------------------------------------------------------------

def test_sounds_are_tenant_isolated(api, world, media, audio):
    sound_id = upload(api("acme"), "ok.wav", audio("ok.wav", seconds=0.2)).json()["id"]
    run_conversion(world, sound_id)
    check_tenant_isolation(api, resource="sounds", tenant=world.acme, obj_id=sound_id, update={"name": "x"})
    for label in ("globex", "initech", "other_reseller"):
        client = api(label)
        for path in (f"{BASE}{sound_id}/download", f"{BASE}moh-classes"):
            response = client.get(path)
            assert response.status_code == 404 and response.json()["code"] == "tenant_not_found"
        response = client.post(f"{BASE}tts", {"name": "x", "text": "hi"})
        assert response.status_code == 404 and response.json()["code"] == "tenant_not_found"
        response = upload(client, "ok.wav", audio("ok2.wav", seconds=0.2), sound_name="sneaky")
        assert response.status_code == 404 and response.json()["code"] == "tenant_not_found"
    # globex's own list does not show acme's sound, nor can it reach it by id.
    assert api("globex").get("/api/sounds/globex/").json() == []
    assert api("globex").get(f"/api/sounds/globex/{sound_id}/").json()["code"] == "not_found"
    assert api("globex").get(f"/api/sounds/globex/{sound_id}/download").status_code == 404
    assert api("reseller").get(f"{BASE}{sound_id}/").status_code == 200
    assert api("acme_ro").post(f"{BASE}tts", {"name": "x", "text": "hi"}).json()["code"] == "read_only_credential"
    assert stored_files(media) == [f"{world.acme.pk}/{sound_id}/sound.ulaw", f"{world.acme.pk}/{sound_id}/sound.wav"]


def test_the_list_filters_and_searches(api, world, media, audio):
    client = api("acme")
    upload(client, "a.wav", audio("a.wav", seconds=0.2), sound_name="alpha")
    upload(client, "b.wav", audio("b.wav", seconds=0.2), sound_name="beta", kind="moh", moh_class="jazz")
    client.post(f"{BASE}tts", {"name": "gamma", "text": "Hello"})
    names = lambda q: [s["name"] for s in client.get(f"{BASE}{q}").json()]  # noqa: E731
    assert names("") == ["beta", "alpha", "gamma"]  # music on hold, then prompts, by name
    assert names("?kind=prompt") == ["alpha", "gamma"]
    assert names("?source=tts") == ["gamma"]
    assert names("?moh_class=jazz") == ["beta"]
    assert names("?search=alp") == ["alpha"]
    assert names("?ordering=-name") == ["gamma", "beta", "alpha"]
    response = client.get(f"{BASE}?colour=blue")
    assert response.status_code == 400 and response.json()["code"] == "unknown_filter"
    assert client.get(BASE)["X-Total-Count"] == "3"


def test_conversions_whose_message_was_lost_are_queued_again(api, world, media, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.sounds import tasks

    client = api("acme")
    stalled = client.post(f"{BASE}tts", {"name": "stalled", "text": "Hello."}).json()["id"]
    recent = client.post(f"{BASE}tts", {"name": "recent", "text": "Hello."}).json()["id"]
    done = client.post(f"{BASE}tts", {"name": "done", "text": "Hello."}).json()["id"]
    other = api("globex").post("/api/sounds/globex/tts", {"name": "stalled", "text": "Hi."}).json()["id"]
    long_ago = timezone.now() - timedelta(seconds=tasks.STALLED_AFTER + 60)
    with tenant_context(world.acme):
        SoundFile.objects.filter(pk__in=[stalled, done]).update(updated_at=long_ago)
        SoundFile.objects.filter(pk=done).update(status="ready")
    with tenant_context(world.globex):
        SoundFile.objects.filter(pk=other).update(updated_at=long_ago, status="converting")
    sent = []
    monkeypatch.setattr(tasks.convert, "delay", lambda *args: sent.append(args))
    assert tasks.requeue_stalled.apply().result == 2
    assert sorted(sent) == sorted([(world.acme.pk, stalled), (world.globex.pk, other)])
    assert recent
