"""Sounds on the PBX: every IVR gets a spoken prompt, files reach sounds_dir with the push (only
changed ones, removed ones deleted), the dialplan and musiconhold.conf reference a sound only once
it is there, and each tenant's sounds stay its own."""
from __future__ import annotations

import os
import re
import socket
import wave
from pathlib import Path

import pytest
from django.test import TestCase
from django_tenants.utils import tenant_context

from apps.pbx.models import ConfigPush, Server
from apps.pbx.render import render_server
from apps.pbx.render.confcheck import check_musiconhold, parse, validate
from apps.sounds import ivr_prompts, push as sound_push, services as snd, storage
from apps.sounds.models import SoundFile
from apps.telephony import services as tel
from apps.telephony.models import Ivr
from tests.pbx.golden.demo import build_demo, host_on, make_server, tone
from tests.pbx.peers import AmiReplayServer
from tests.pbx.test_config_transcripts import sliced

pytestmark = pytest.mark.django_db

# The steps a first push sends, as the config apply tests replay them (one list for both).
from tests.pbx.test_config_apply import ALL_RELOADS, RENAME, VOICEMAIL as DERIVED  # noqa: E402


@pytest.fixture(autouse=True)
def fast_ami(settings):
    settings.PBX_AMI_TIMEOUT = 3.0
    settings.PBX_APPLY_MAX_RETRIES = 0


@pytest.fixture
def dirs(tmp_path, media):
    conf, sounds = tmp_path / "conf", tmp_path / "sounds"
    conf.mkdir()
    return conf, sounds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def push_now(server: Server) -> ConfigPush:
    from apps.accounts.principal import Principal
    from apps.pbx.services import config_push_request
    from apps.pbx.tasks import apply_config

    push = config_push_request(actor=Principal.system("tests"), server=server)
    with TestCase.captureOnCommitCallbacks(execute=True):
        apply_config.apply(args=[server.pk, push.pk])
    push.refresh_from_db()
    return push


def backgrounds(extensions_conf: str) -> dict[str, str]:
    """IVR context -> what its Background() plays."""
    out, context = {}, None
    for line in extensions_conf.splitlines():
        if line.startswith("["):
            context = line.strip("[]")
        match = re.search(r"Background\((.*)\)$", line)
        if match:
            out[context] = match.group(1)
    return out


def assert_asterisk_wav(path: Path) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2), path
        assert wav.getnframes() > 0


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def convert(tenant, sound) -> SoundFile:
    with tenant_context(tenant), TestCase.captureOnCommitCallbacks(execute=True):
        return snd.convert_now(tenant, SoundFile.objects.get(pk=sound.pk))


# --- every IVR has a prompt ---------------------------------------------------------------------

def test_the_first_push_speaks_a_prompt_for_every_ivr_and_sends_every_sound(world, system_actor, dirs):
    conf, sounds = dirs
    with AmiReplayServer(sliced("reload", ALL_RELOADS, derive=DERIVED, rename=RENAME)) as peer:
        server, objects = build_demo(system_actor, world, ami_host=peer.host, ami_port=peer.port,
                                     config_dir=str(conf), sounds_dir=str(sounds))
        # An IVR made after the demo: nothing has spoken its prompt yet; the push does.
        late = tel.ivr_create(actor=system_actor, tenant=world.acme, name="Late menu", number="3009",
                              greeting_text="Sorry, we are closed.")
        push = push_now(server)
        peer.wait_idle()
        assert peer.errors == [] and peer.finished
    assert push.status == "succeeded", push.error
    assert "res_musiconhold.so" in push.modules_reloaded
    with tenant_context(world.acme):
        ivrs = list(Ivr.objects.order_by("pk"))
        prompts = {s.ivr_id: s for s in SoundFile.objects.filter(ivr__isnull=False)}
    assert late.pk in {i.pk for i in ivrs} and len(ivrs) == 4
    assert sorted(prompts) == [i.pk for i in ivrs]  # one spoken prompt per IVR
    assert prompts[late.pk].text == "Sorry, we are closed." and prompts[late.pk].status == "ready"
    support = objects["acme"]["support"]
    assert prompts[support.pk].text == ("Thank you for calling Acme. For Sales, press 1. For Main menu, press star.")
    for ivr in ivrs:
        assert_asterisk_wav(sounds / "acme" / f"ivr-{ivr.pk}.wav")
        assert (sounds / "acme" / f"ivr-{ivr.pk}.ulaw").stat().st_size > 0
    # What each IVR plays is on the server (or, for "custom/acme/welcome", the operator's own file).
    played = backgrounds((conf / "extensions.conf").read_text())
    assert played == {
        "acme-ivr-1": "custom/acme/welcome",
        f"acme-ivr-{objects['acme']['after_hours'].pk}": f"{sounds}/acme/welcome",
        f"acme-ivr-{support.pk}": f"{sounds}/acme/ivr-{support.pk}",
        f"acme-ivr-{late.pk}": f"{sounds}/acme/ivr-{late.pk}",
    }
    for context, path in played.items():
        if path.startswith("/"):
            assert_asterisk_wav(Path(path + ".wav"))
    # Music on hold: the class directory holds the converted file, musiconhold.conf names it.
    moh = (conf / "musiconhold.conf").read_text()
    assert f"[acme-jazz]\n; 1 file\nmode = files\ndirectory = {sounds}/acme/moh/jazz\n" in moh
    assert_asterisk_wav(sounds / "acme" / "moh" / "jazz" / "smooth.wav")
    assert "musicclass = acme-jazz" in (conf / "queues.conf").read_text()
    assert push.sounds_changed == [p for p in tree(sounds) if not p.startswith(".")]
    assert validate({name: (conf / name).read_text() for name in os.listdir(conf)}) == []


def test_prompt_texts_follow_the_ivr(world, system_actor, dirs):
    conf, sounds = dirs
    server = make_server(config_dir=str(conf), sounds_dir=str(sounds))
    host_on(server, world.acme)
    sales = tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Sales")
    bob = tel.extension_create(actor=system_actor, tenant=world.acme, number="1002", name="Bob",
                               sip_secret="Bob-Secret-1234x")
    ivr = tel.ivr_create(actor=system_actor, tenant=world.acme, name="Menu", direct_dial=True,
                         options=[{"digit": "1", "dest": {"type": "queue", "id": sales.pk}},
                                  {"digit": "2", "dest": {"type": "voicemail", "id": bob.pk}},
                                  {"digit": "#", "dest": {"type": "hangup"}}])
    assert ivr_prompts.sync_server(server) == 1
    with tenant_context(world.acme):
        prompt = SoundFile.objects.get(ivr=ivr)
    assert prompt.text == ("Thank you for calling Acme. For Sales, press 1. For the voicemail of Bob, press 2. "
                           "Press pound. If you know the extension of the person you are calling, you may dial it "
                           "at any time.")
    first = prompt.checksum
    assert ivr_prompts.sync_server(server) == 0  # nothing changed: nothing spoken again
    tel.ivr_update(actor=system_actor, tenant=world.acme, instance=ivr, greeting_text="Welcome to Acme support.")
    assert ivr_prompts.sync_server(server) == 1
    with tenant_context(world.acme):
        prompt.refresh_from_db()
    assert prompt.text == "Welcome to Acme support." and prompt.checksum != first
    # A deleted IVR's prompt goes, and its files leave the server with the next push.
    sound_push.push(server, render_server(server).views)
    assert f"acme/ivr-{ivr.pk}.wav" in tree(sounds)
    tel.ivr_delete(actor=system_actor, tenant=world.acme, instance=ivr)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert ivr_prompts.sync_server(server) == 1
    with tenant_context(world.acme):
        assert not SoundFile.objects.exists()
    changed = sound_push.push(server, render_server(server).views)
    assert changed == [f"-acme/ivr-{ivr.pk}.ulaw", f"-acme/ivr-{ivr.pk}.wav"]
    assert tree(sounds) == [".thirdlane-sounds.json"]


# --- only what is present is referenced ------------------------------------------------------------

def test_a_sound_is_referenced_only_once_it_is_ready(world, system_actor, dirs, settings):
    conf, sounds = dirs
    server = make_server(config_dir=str(conf), sounds_dir=str(sounds))
    host_on(server, world.acme)
    promo = snd.sound_upload(actor=system_actor, tenant=world.acme, name="promo", upload=tone(0.5),
                             file_name="promo.wav")
    music = snd.sound_upload(actor=system_actor, tenant=world.acme, name="song", kind="moh", moh_class="rock",
                             upload=tone(0.5), file_name="song.wav")
    ivr = tel.ivr_create(actor=system_actor, tenant=world.acme, name="Menu", greeting_recording="promo")
    queue = tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Q", music_on_hold="rock")
    ctx = f"acme-ivr-{ivr.pk}"

    def rendered():
        files = render_server(server).files
        assert validate(files) == []
        return backgrounds(files["extensions.conf"])[ctx], files

    # Nothing converted, no IVR prompt spoken yet: Asterisk's stock prompt, the default class.
    played, files = rendered()
    assert played == "enter-ext-of-person"
    assert "[acme-rock]" not in files["musiconhold.conf"] and "musicclass = default" in files["queues.conf"]
    # The IVR's own prompt is spoken: it plays that while promo is converting.
    ivr_prompts.sync_server(server)
    assert rendered()[0] == f"{sounds}/acme/ivr-{ivr.pk}"
    # promo and the music are ready: now they are played.
    convert(world.acme, promo)
    convert(world.acme, music)
    played, files = rendered()
    assert played == f"{sounds}/acme/promo"
    assert "[acme-rock]" in files["musiconhold.conf"] and "musicclass = acme-rock" in files["queues.conf"]
    # A server that gets no sounds never references them.
    Server.objects.filter(pk=server.pk).update(sounds_dir="")
    server.refresh_from_db()
    played, files = rendered()
    assert played == "enter-ext-of-person" and "[acme-" not in files["musiconhold.conf"]
    assert "musicclass = default" in files["queues.conf"]
    assert sound_push.push(server, render_server(server).views) == []
    # A name no tenant prompt has is a file on the PBX, as before.
    tel.ivr_update(actor=system_actor, tenant=world.acme, instance=ivr, greeting_recording="custom/promo")
    assert backgrounds(render_server(server).files["extensions.conf"])[ctx] == "custom/promo"
    assert queue.pk


# --- files on the server: only changed ones, removed ones deleted ----------------------------------

def test_pushes_send_only_changed_sound_files_and_delete_removed_ones(world, system_actor, dirs):
    conf, sounds = dirs
    server, objects = build_demo(system_actor, world, config_dir=str(conf), sounds_dir=str(sounds))
    views = render_server(server).views
    first = sound_push.push(server, views)
    assert first == [p for p in tree(sounds) if not p.startswith(".")] and len(first) == 10
    assert "acme/welcome.wav" in first and "acme/moh/jazz/smooth.ulaw" in first
    (sounds / "operator-own.wav").write_bytes(b"RIFF")  # not ours: never touched
    stamps = {p: (sounds / p).stat().st_mtime_ns for p in first}

    assert sound_push.push(server, render_server(server).views) == []
    assert {p: (sounds / p).stat().st_mtime_ns for p in first} == stamps

    # A prompt spoken again: only its two files are sent.
    welcome = snd.sound_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["welcome"],
                               text="Welcome to Acme Corporation.")
    convert(world.acme, welcome)
    changed = sound_push.push(server, render_server(server).views)
    assert changed == ["acme/welcome.ulaw", "acme/welcome.wav"]
    assert not sound_push.moh_changed(changed)
    # A file damaged on the server is sent again.
    (sounds / "acme" / "moh" / "jazz" / "smooth.wav").write_bytes(b"oops")
    assert sound_push.push(server, render_server(server).views) == ["acme/moh/jazz/smooth.wav"]
    # A deleted sound's files are removed, with the directories it leaves empty.
    with TestCase.captureOnCommitCallbacks(execute=True):
        snd.sound_delete(actor=system_actor, tenant=world.acme, instance=objects["acme"]["smooth"])
    changed = sound_push.push(server, render_server(server).views)
    assert changed == ["-acme/moh/jazz/smooth.ulaw", "-acme/moh/jazz/smooth.wav"]
    assert sound_push.moh_changed(changed)
    assert not (sounds / "acme" / "moh").exists()
    assert (sounds / "operator-own.wav").read_bytes() == b"RIFF"


def test_a_push_of_changed_prompts_alone_reloads_nothing(world, system_actor, dirs):
    conf, sounds = dirs
    server, objects = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(conf),
                                 sounds_dir=str(sounds))
    from apps.pbx.apply import write_files

    write_files(str(conf), render_server(server).files)
    sound_push.push(server, render_server(server).views)
    welcome = snd.sound_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["welcome"],
                               text="Hello again.")
    convert(world.acme, welcome)
    push = push_now(server)  # no AMI listens: a reload would fail the push
    assert push.status == "succeeded", push.error
    assert push.files_changed == [] and push.modules_reloaded == []
    assert push.sounds_changed == ["acme/welcome.ulaw", "acme/welcome.wav"]


def test_new_music_on_hold_files_reload_music_on_hold(world, system_actor, dirs):
    conf, sounds = dirs
    server, objects = build_demo(system_actor, world, config_dir=str(conf), sounds_dir=str(sounds))
    from apps.pbx.apply import write_files

    write_files(str(conf), render_server(server).files)
    sound_push.push(server, render_server(server).views)
    more = snd.sound_upload(actor=system_actor, tenant=world.acme, name="cool", kind="moh", moh_class="jazz",
                            upload=tone(0.5), file_name="cool.wav")
    convert(world.acme, more)
    transcript = sliced("reload", ["reload-moh"], derive=DERIVED)
    with AmiReplayServer(transcript) as peer:
        Server.objects.filter(pk=server.pk).update(ami_host=peer.host, ami_port=peer.port)
        push = push_now(server)
        peer.wait_idle()
        assert peer.errors == [] and peer.finished
    assert push.status == "succeeded", push.error
    # musiconhold.conf itself says "2 files" now; the class directory got the new file.
    assert push.files_changed == ["musiconhold.conf"] and push.modules_reloaded == ["res_musiconhold.so"]
    assert push.sounds_changed == ["acme/moh/jazz/cool.ulaw", "acme/moh/jazz/cool.wav"]


def test_a_sounds_dir_that_cannot_be_written_fails_the_push_clearly(world, system_actor, dirs):
    conf, sounds = dirs
    sounds.parent.mkdir(exist_ok=True)
    blocker = sounds.parent / "not-a-dir"
    blocker.write_text("x")
    server, _ = build_demo(system_actor, world, ami_port=free_port(), config_dir=str(conf),
                           sounds_dir=str(blocker / "sounds"))
    push = push_now(server)
    assert push.status == "failed" and "sounds_dir" in push.error


# --- tenants -------------------------------------------------------------------------------------------

def test_each_tenants_sounds_stay_its_own(world, system_actor, dirs):
    conf, sounds = dirs
    server = make_server(config_dir=str(conf), sounds_dir=str(sounds))
    host_on(server, world.acme, world.globex)
    made = {}
    for tenant, seconds in ((world.acme, 0.5), (world.globex, 1.0)):
        prompt = snd.sound_upload(actor=system_actor, tenant=tenant, name="welcome", upload=tone(seconds),
                                  file_name="welcome.wav")
        music = snd.sound_upload(actor=system_actor, tenant=tenant, name="song", kind="moh", moh_class="jazz",
                                 upload=tone(seconds), file_name="song.wav")
        made[tenant.slug] = [convert(tenant, prompt), convert(tenant, music)]
        tel.ivr_create(actor=system_actor, tenant=tenant, name="Menu", greeting_recording="welcome")
        tel.queue_create(actor=system_actor, tenant=tenant, number="2000", name="Q", music_on_hold="jazz")
    files = render_server(server).files
    assert validate(files) == []
    played = backgrounds(files["extensions.conf"])
    assert sorted(played.values()) == [f"{sounds}/acme/welcome", f"{sounds}/globex/welcome"]
    assert all(ctx.split("-ivr-")[0] in path for ctx, path in played.items())
    classes = {s.name: s.get("directory") for s in parse(files["musiconhold.conf"])}
    assert classes["acme-jazz"] == [f"{sounds}/acme/moh/jazz"] and classes["globex-jazz"] == [f"{sounds}/globex/moh/jazz"]
    queues = {s.name: s.get("musicclass") for s in parse(files["queues.conf"])}
    assert queues["acme-2000"] == ["acme-jazz"] and queues["globex-2000"] == ["globex-jazz"]

    sound_push.push(server, render_server(server).views)
    for slug, (prompt, music) in made.items():
        assert (sounds / slug / "welcome.wav").read_bytes() == \
            Path(storage.converted_path(getattr(world, slug).pk, prompt.pk, "wav")).read_bytes()
    assert (sounds / "acme" / "welcome.wav").read_bytes() != (sounds / "globex" / "welcome.wav").read_bytes()
    # globex moves to another server: its files leave this one, acme's stay.
    other = make_server(name="pbx-other", config_dir=str(conf), sounds_dir=str(sounds) + "-other")
    host_on(other, world.globex)
    changed = sound_push.push(server, render_server(server).views)
    assert changed and all(p.startswith("-globex/") for p in changed)
    assert not (sounds / "globex").exists() and (sounds / "acme" / "welcome.wav").exists()


def test_sounds_dir_is_checked_when_a_server_is_saved(api, world):
    base = {"name": "pbx-x", "host": "pbx.example.net", "sip_address": "sip.example.net", "ami_host": "pbx.example.net",
            "ami_username": "portal", "ami_secret": "s3cret-portal"}
    for bad in ("relative/path", "/var/lib/asterisk/sounds;evil", "/var/../etc", "/a b"):
        response = api("system").post("/api/servers/", {**base, "sounds_dir": bad})
        assert response.status_code == 400 and "sounds_dir" in response.json()["errors"], (bad, response.content)
    response = api("system").post("/api/servers/", {**base, "sounds_dir": ""})
    assert response.status_code == 201 and response.json()["sounds_dir"] == ""
    response = api("system").post("/api/servers/", {**base, "name": "pbx-y"})
    assert response.json()["sounds_dir"] == "/var/lib/asterisk/sounds/thirdlane"


# --- the config checker --------------------------------------------------------------------------------

def test_the_checker_refuses_what_asterisk_would_not_load(world, system_actor):
    server, _ = build_demo(system_actor, world)
    files = render_server(server).files
    queues = parse(files["queues.conf"])
    assert check_musiconhold(files["musiconhold.conf"], queues) == []
    broken = files["musiconhold.conf"] + "\n[acme-jazz]\nmode = files\ndirectory = ../../etc\nsort = upside-down\nfoo = 1\n"
    problems = "\n".join(check_musiconhold(broken, queues))
    assert "class acme-jazz defined twice" in problems
    assert "one plain directory" in problems and "sort must be" in problems and "unknown options" in problems
    no_default = files["musiconhold.conf"].replace("[default]", "[other]")
    assert "no default class" in "\n".join(check_musiconhold(no_default, queues))
    without_jazz = files["musiconhold.conf"].replace("[acme-jazz]", "[acme-blues]")
    assert "musicclass acme-jazz is not in musiconhold.conf" in "\n".join(validate({**files,
                                                                                   "musiconhold.conf": without_jazz}))
