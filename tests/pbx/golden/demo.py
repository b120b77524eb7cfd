"""The demo-like tenants whose rendered configuration the golden files pin.

acme: three extensions (one with forwarding and outbound recording), a DID to a time
condition, business hours with a holiday in Europe/Berlin, an IVR, a sales queue with a static
member and an agent, two trunks (registration + IP authentication) used by a local route with
failover and an emergency route. globex: two extensions, a DID straight to an extension, one
trunk and route.

Everything is made through the telephony services (what the API does). Secrets and PINs are
given explicitly and the tenant schemas' id sequences are restarted, so the output does not
depend on randomness or on what earlier tests consumed.
"""
from __future__ import annotations

import datetime as dt

from django.db import connection
from django_tenants.utils import tenant_context

from apps.pbx.models import Location, Server
from apps.telephony import services as tel
from apps.telephony.models import Extension

LETTERS = str.maketrans("0123456789", "abcdefghij")
TABLES = ("extension", "did", "trunk", "outboundroute", "outboundroutetrunk", "queue", "queuemember", "agent", "ivr",
          "ivroption", "schedule", "weeklyrange", "holidayrange", "timecondition")


def restart_ids(tenant) -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)",
                           [f'"{tenant.schema_name}".telephony_{table}'])


def make_server(**overrides) -> Server:
    location, _ = Location.objects.get_or_create(code="fra", defaults={"name": "Frankfurt",
                                                                        "timezone": "Europe/Berlin"})
    fields = dict(name="pbx-demo-1", host="pbx1.example.net", sip_address="sip1.example.net", sip_port=5060,
                  ami_host="127.0.0.1", ami_port=5038, ami_username="portal", ami_secret="portal-secret",
                  config_dir="/etc/asterisk", location=location)
    # A server writing to a test's own config_dir gets sound files only when the test says where.
    fields["sounds_dir"] = "" if "config_dir" in overrides else "/var/lib/asterisk/sounds/thirdlane"
    fields.update(overrides)
    return Server.objects.create(**fields)


def host_on(server: Server, *tenants) -> None:
    for tenant in tenants:
        tenant.primary_server = server
        tenant.save(update_fields=["primary_server"])


def ext(actor, tenant, number, name, **fields) -> Extension:
    fields.setdefault("sip_secret", f"Demo-{tenant.slug}-Sip-{number.translate(LETTERS)}9")
    fields.setdefault("voicemail_pin", "4827")
    return tel.extension_create(actor=actor, tenant=tenant, number=number, name=name, **fields)


def build_acme(actor, tenant) -> dict:
    with tenant_context(tenant):
        restart_ids(tenant)
    alice = ext(actor, tenant, "1001", "Alice Smith", email="alice@acme.example", caller_id_number="+14155550100")
    bob = ext(actor, tenant, "1002", "Bob Jones", forward_no_answer="1003", recording_outbound="on_demand",
              ring_time=25)
    carol = ext(actor, tenant, "1003", "Carol; ${SHELL(id)}", voicemail_enabled=False, dnd=True,
                recording_inbound="always", codecs=["opus", "ulaw"])
    agent = tel.agent_create(actor=actor, tenant=tenant, name="Alice Agent", login_code="5001", extension=alice.pk)
    sales = tel.queue_create(actor=actor, tenant=tenant, number="2000", name="Sales", strategy="rrmemory",
                             ring_timeout=15, wrapup_time=10, max_wait=120,
                             members=[{"extension": bob.pk, "penalty": 0}, {"agent": agent.pk, "penalty": 1}],
                             fallback={"type": "voicemail", "id": alice.pk})
    ivr = tel.ivr_create(actor=actor, tenant=tenant, name="Main menu", number="3000",
                         greeting_recording="custom/acme/welcome.wav", timeout=5, repeat_count=2, direct_dial=True,
                         options=[{"digit": "1", "dest": {"type": "queue", "id": sales.pk}},
                                  {"digit": "2", "dest": {"type": "extension", "id": bob.pk}},
                                  {"digit": "9", "dest": {"type": "external", "number": "+14155550199"}}],
                         invalid={"type": "hangup"}, timeout_dest={"type": "extension", "id": alice.pk})
    hours = tel.schedule_create(
        actor=actor, tenant=tenant, name="Business hours", timezone="Europe/Berlin",
        weekly_ranges=[{"day_of_week": d, "start_time": dt.time(9), "end_time": dt.time(17)} for d in range(5)]
        + [{"day_of_week": 5, "start_time": dt.time(10), "end_time": dt.time(13)}],
        holidays=[{"name": "Christmas", "start_date": dt.date(2026, 12, 24), "end_date": dt.date(2026, 12, 26)}])
    tc = tel.time_condition_create(actor=actor, tenant=tenant, name="Open hours", schedule=hours.pk,
                                   match={"type": "ivr", "id": ivr.pk}, no_match={"type": "voicemail", "id": alice.pk})
    tel.did_create(actor=actor, tenant=tenant, number="+14155550100", dest={"type": "time_condition", "id": tc.pk},
                   description="Main number")
    primary = tel.trunk_create(actor=actor, tenant=tenant, name="carrier-a", auth_type="registration",
                               host="sip.carrier-a.example", username="acme4155550100", secret="Trunk-A-Secret-77q",
                               codecs=["ulaw", "alaw"], max_channels=10, outbound_caller_id="+14155550100",
                               qualify_frequency=60, inbound={"type": "ivr", "id": ivr.pk})
    backup = tel.trunk_create(actor=actor, tenant=tenant, name="carrier-b", auth_type="ip_auth",
                              host="203.0.113.10", port=5080, transport="tcp", codecs=["ulaw"])
    tel.outbound_route_create(actor=actor, tenant=tenant, name="Local", priority=10,
                              dial_patterns=["_9NXXNXXXXXX", "_91NXXNXXXXXX"], strip_digits=1,
                              trunks=[primary.pk, backup.pk])
    tel.outbound_route_create(actor=actor, tenant=tenant, name="Emergency", priority=1, is_emergency=True,
                              dial_patterns=["911"], emergency_numbers=["911", "933"], trunks=[primary.pk, backup.pk])
    return {"alice": alice, "bob": bob, "carol": carol, "agent": agent, "sales": sales, "ivr": ivr, "tc": tc,
            "trunks": [primary, backup]}


def build_globex(actor, tenant) -> dict:
    with tenant_context(tenant):
        restart_ids(tenant)
    one = ext(actor, tenant, "1001", "Gina Globex", email="gina@globex.example")
    two = ext(actor, tenant, "1002", "Hank Globex", forward_always="+14155550123")
    did = tel.did_create(actor=actor, tenant=tenant, number="+12125550199", dest={"type": "extension", "id": one.pk})
    trunk = tel.trunk_create(actor=actor, tenant=tenant, name="carrier-a", auth_type="registration",
                             host="sip.carrier-a.example", username="globex2125550199", secret="Trunk-G-Secret-88w",
                             inbound_did=did.pk)
    tel.outbound_route_create(actor=actor, tenant=tenant, name="All calls", priority=100,
                              dial_patterns=["_NXXNXXXXXX", "_1NXXNXXXXXX"], trunks=[trunk.pk])
    return {"one": one, "two": two, "trunk": trunk}


def tone(seconds: float = 1.0) -> bytes:
    """A real WAV (44.1 kHz stereo sine) made by SoX, as a customer would upload it."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/tone.wav"
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", path, "synth", str(seconds), "sine", "440"], check=True,
                       capture_output=True)
        with open(path, "rb") as handle:
            return handle.read()


def build_sounds(actor, tenant, objects: dict) -> dict:
    """acme's sounds: a spoken prompt (welcome) that a second IVR plays, a music-on-hold class
    (jazz) with an uploaded file that the sales queue plays, and a third IVR with no greeting at
    all (it plays the menu the portal speaks for it). Converted at once, as the worker would."""
    from apps.sounds import services as snd

    welcome = snd.sound_tts_create(actor=actor, tenant=tenant, name="welcome", text="Welcome to Acme.")
    smooth = snd.sound_upload(actor=actor, tenant=tenant, name="smooth", kind="moh", moh_class="jazz",
                              upload=tone(), file_name="smooth.wav")
    with tenant_context(tenant):
        for sound in (welcome, smooth):
            snd.convert_now(tenant, sound)
    alice, sales = objects["alice"], objects["sales"]
    after_hours = tel.ivr_create(actor=actor, tenant=tenant, name="After hours", number="3001",
                                 greeting_recording="welcome",
                                 options=[{"digit": "1", "dest": {"type": "voicemail", "id": alice.pk}}])
    support = tel.ivr_create(actor=actor, tenant=tenant, name="Support menu", number="3002",
                             options=[{"digit": "1", "dest": {"type": "queue", "id": sales.pk}},
                                      {"digit": "*", "dest": {"type": "ivr", "id": objects["ivr"].pk}}])
    tel.queue_update(actor=actor, tenant=tenant, instance=sales, music_on_hold="jazz")
    return {"welcome": welcome, "smooth": smooth, "after_hours": after_hours, "support": support}


def build_demo(actor, world, **server_fields) -> tuple[Server, dict]:
    server = make_server(**server_fields)
    host_on(server, world.acme, world.globex)
    objects = {"acme": build_acme(actor, world.acme), "globex": build_globex(actor, world.globex)}
    if server.sounds_dir:  # the golden files, and tests that push sounds
        from apps.sounds.ivr_prompts import sync_server

        objects["acme"].update(build_sounds(actor, world.acme, objects["acme"]))
        sync_server(server)  # what the first push would do: a spoken prompt for every IVR
    return server, objects
