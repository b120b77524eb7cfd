"""The tenant admin for sounds: upload a file or type the text, hear it (<audio>), through the
services; another reseller's user sees nothing."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.sounds import services
from apps.sounds.models import SoundFile

pytestmark = pytest.mark.django_db
BASE = "/t/acme/admin/sounds/soundfile/"


@pytest.fixture
def client(world):
    client = Client()
    assert client.login(username="reseller", password="pw-reseller-1")
    return client


def test_upload_and_speak_in_the_admin_then_listen(client, world, media, audio):
    assert client.get(f"{BASE}add/").status_code == 200
    response = client.post(f"{BASE}add/", {"name": "welcome", "kind": "prompt", "moh_class": "", "text": "",
                                           "language": "", "voice": "",
                                           "file": SimpleUploadedFile("welcome.mp3", audio("w.mp3", seconds=0.5))})
    assert response.status_code == 302, response.content[:2000]
    response = client.post(f"{BASE}add/", {"name": "hours", "kind": "prompt", "moh_class": "",
                                           "text": "We are open nine to five.", "language": "", "voice": ""})
    assert response.status_code == 302
    with tenant_context(world.acme):
        sounds = {s.name: s for s in SoundFile.objects.all()}
        assert (sounds["welcome"].source, sounds["hours"].source) == ("upload", "tts")
        for sound in sounds.values():
            services.convert_now(world.acme, sound)
    assert OutboxEvent.objects.filter(type="config.sound.created").count() == 2
    page = client.get(BASE).content.decode()
    audio_url = f"{BASE}{sounds['welcome'].pk}/audio.wav"
    assert f'<audio controls preload="none" src="{audio_url}"' in page
    played = client.get(audio_url)
    assert played.status_code == 200 and played["Content-Type"] == "audio/wav"
    assert b"".join(played.streaming_content)[:4] == b"RIFF"
    change = client.get(f"{BASE}{sounds['hours'].pk}/change/").content.decode()
    assert "<audio" in change and "We are open nine to five." in change


def test_the_admin_refuses_what_the_service_refuses(client, world, media):
    response = client.post(f"{BASE}add/", {"name": "notes", "kind": "prompt", "moh_class": "", "text": "",
                                           "language": "", "voice": "",
                                           "file": SimpleUploadedFile("notes.txt", b"hello")})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "not a WAV, MP3 or OGG file" in page
    both_missing = client.post(f"{BASE}add/", {"name": "x", "kind": "prompt", "moh_class": "", "text": "",
                                               "language": "", "voice": ""})
    assert "Upload a file or type the text" in both_missing.content.decode()
    with tenant_context(world.acme):
        assert not SoundFile.objects.exists()


def test_another_resellers_user_sees_nothing(world, media, system_actor):
    sound = services.sound_tts_create(actor=system_actor, tenant=world.acme, name="hours", text="Open.")
    with tenant_context(world.acme):
        services.convert_now(world.acme, SoundFile.objects.get(pk=sound.pk))
    other = Client()
    assert other.login(username="other", password="pw-other-1")
    assert other.get(BASE).status_code == 404
    assert other.get(f"{BASE}{sound.pk}/audio.wav").status_code == 404
