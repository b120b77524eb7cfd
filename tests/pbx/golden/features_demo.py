"""The PBX features' demo (issue 12) whose rendered configuration tests/pbx/golden/features/ pins.

One tenant (initech) alone on its own server, so the files show the features and little else:
three extensions (one with follow-me, one forwarding on busy), a ring group of each strategy
(members with delays, an external number), a DID and two block lists (one for every DID with
anonymous rejection, one for that DID only), a tenant's own feature code, two conferences (PINs,
recording, waiting for the administrator), a parking lot and two paging groups.
"""
from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.telephony import services as tel
from tests.pbx.golden.demo import ext, host_on, make_server, restart_ids

FEATURE_TABLES = ("ringgroup", "ringgroupmember", "blocklist", "blocklistentry", "blocklist_dids", "featurecode",
                  "conference", "parkinglot", "paginggroup", "pagingmember")
AGI_URL = "agi://10.0.0.5:4573"


def restart_feature_ids(tenant) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in FEATURE_TABLES:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)",
                           [f'"{tenant.schema_name}".telephony_{table}'])


def build_features(actor, world) -> tuple:
    server = make_server(name="pbx-features-1", host="pbx2.example.net", sip_address="sip2.example.net")
    tenant = world.initech
    host_on(server, tenant)
    with tenant_context(tenant):
        restart_ids(tenant)
        restart_feature_ids(tenant)
    kw = {"actor": actor, "tenant": tenant}
    ann = ext(actor, tenant, "2001", "Ann Reception", followme_enabled=True, followme_delay=8,
              followme_numbers=["2002", "+14155550177"])
    ben = ext(actor, tenant, "2002", "Ben Sales", forward_busy="2003")
    cat = ext(actor, tenant, "2003", "Cat Support", voicemail_enabled=False)
    tel.extension_update(**kw, instance=ben, dnd=True)  # settings_version 1
    front = tel.ring_group_create(**kw, number="600", name="Front desk", ring_time=40, caller_id_prefix="FD",
                                  members=[{"extension": ann.pk}, {"extension": ben.pk, "delay": 10},
                                           {"number": "+14155550188", "delay": 20, "ring_time": 30}],
                                  no_answer={"type": "voicemail", "id": ann.pk})
    tel.ring_group_create(**kw, number="601", name="Support line", strategy="hunt",
                          members=[{"extension": cat.pk, "ring_time": 15}, {"extension": ben.pk}],
                          no_answer={"type": "ring_group", "id": front.pk})
    tel.ring_group_create(**kw, number="602", name="Escalation", strategy="memoryhunt",
                          members=[{"extension": ann.pk, "ring_time": 10}, {"extension": ben.pk, "ring_time": 10},
                                   {"extension": cat.pk, "ring_time": 10}],
                          no_answer={"type": "hangup"})
    did = tel.did_create(**kw, number="+14155550150", dest={"type": "ring_group", "id": front.pk})
    other = tel.did_create(**kw, number="+14155550151", dest={"type": "extension", "id": cat.pk})
    tel.block_list_create(**kw, name="Spam", block_anonymous=True,
                          entries=[{"kind": "number", "value": "+14155550199", "description": "robocaller"},
                                   {"kind": "pattern", "value": "_+1900X.", "description": "premium"}])
    tel.block_list_create(**kw, name="Sales blocks", all_dids=False, dids=[did.pk], action="busy",
                          entries=[{"value": "+442071234567"}])
    tel.feature_code_create(**kw, feature="dnd_toggle", code="*31")
    tel.feature_code_create(**kw, feature="intercom", enabled=False)
    weekly = tel.conference_create(**kw, number="800", name="Weekly", pin="4321", admin_pin="98765", max_members=20,
                                   record=True, wait_for_admin=True, announce_join_leave=True)
    open_room = tel.conference_create(**kw, number="801", name="Open room", music_when_alone=False)
    tel.parking_lot_create(**kw, name="Main", number="700", slot_start="701", slot_end="705", timeout=60)
    tel.paging_group_create(**kw, number="900", name="All phones", members=[ann.pk, ben.pk, cat.pk])
    tel.paging_group_create(**kw, number="901", name="Intercom Ann", duplex=True, timeout=15, members=[ann.pk])
    tel.did_update(**kw, instance=other, dest={"type": "conference", "id": weekly.pk})
    return server, {"ann": ann, "ben": ben, "cat": cat, "front": front, "did": did, "other": other,
                    "weekly": weekly, "open_room": open_room}
