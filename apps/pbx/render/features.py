"""Dialplan of the PBX features (issue 12), kept apart from dialplan.py's core contexts.

Per tenant ``t`` (names.py):

    t-settings       subroutine: the dialled extension's call settings (DND, forwards, follow-me),
                     the rendered values or a newer AstDB value written by a feature code
    t-fm-<ext id>    follow-me legs of an extension (Local channels: wait, then ring)
    t-rg-<id>        a ring group: ring all / hunt / memory hunt, then the no-answer destination
    t-rgm-<id>       its member legs (Local channels: delay, then ring the extension or number)
    t-blocklist-<id> caller numbers (in the forms carriers send) and patterns of a block list,
                     looked up with DIALPLAN_EXISTS on every inbound DID the list covers
    t-blocked        what a blocked caller gets: reject (cause 21), busy or answer + hang up
    t-features       feature codes (included by t-internal)
    t-autoanswer     Page()/intercom pre-dial handler: auto-answer headers for common phones
    t-conf-<id>      a conference: PIN check (salted SHA-1 digests, never the PINs), ConfBridge()
    t-page-<id>      a paging group: Page() of its members' phones with the auto-answer handler

Two more files: confbridge.conf (per conference a bridge, a user and an admin profile; shared
menus) and res_parking.conf (per lot ``t-park-<id>`` with ``context = t-parked-<id>``, which
res_parking only fills for a lot with a ``parkext`` - ours have none, so Asterisk creates no such
context; the call goes back to the parker after the timeout); the park number and the slots are
in t-extensions (Park()/ParkedCall()).

Call settings live in the database (the source of truth). A feature code goes to the portal's
FastAGI server (``feature-code``), which updates the extension through the service (audit entry,
event, ``settings_version`` + 1) and writes ``<version>:<dnd>:<cfa>:<cfb>:<cfna>:<fm>`` to AstDB
``TL/<tenant>/<number>`` on the PBX. Each extension renders the same string from the database;
``t-settings`` takes the AstDB value only when its version is newer. So a code works at once
without a push, a push never brings back an old value (the rendered version catches up), and
both survive an Asterisk restart (AstDB is on disk, the files are the last push).
"""
from __future__ import annotations

import phonenumbers

from apps.pbx.render import text
from apps.pbx.render.view import Row, TenantView
from apps.telephony import features as fc

ASTDB_FAMILY = "TL"
FORWARD_HOPS = 5  # a forwarding chain stops after this many extensions (A -> B -> A loops)
AUTOANSWER_HEADERS = (
    # Yealink, Grandstream, Snom, Cisco (answer-after) and Polycom (alert-autoanswer).
    "Set(PJSIP_HEADER(add,Call-Info)=<sip:127.0.0.1>\\;answer-after=0)",
    "Set(PJSIP_HEADER(add,Alert-Info)=<http://127.0.0.1>\\;info=alert-autoanswer\\;delay=0)",
)
BLOCK_ACTIONS = {"reject": ["Hangup(21)"], "busy": ["Busy(10)", "Hangup()"], "hangup": ["Answer()", "Hangup()"]}


def astdb_key(tenant_slug: str, number: str) -> str:
    return f"{tenant_slug}/{number}"


def settings_value(version: int, dnd: bool, cfa: str, cfb: str, cfna: str, followme: bool) -> str:
    """The call settings as one AstDB/dialplan value (numbers hold no ``:``)."""
    clean = [text.dialable(n) if n else "" for n in (cfa, cfb, cfna)]
    return f"{int(version)}:{int(bool(dnd))}:{clean[0]}:{clean[1]}:{clean[2]}:{int(bool(followme))}"


def agi_base() -> str:
    """PBX_AGI_URL (``agi://10.0.0.5:4573``) when it is safe to put in the dialplan, else ""."""
    from django.conf import settings

    base = (getattr(settings, "PBX_AGI_URL", "") or "").rstrip("/")
    if not base.startswith("agi://") or any(c in base for c in ",;()[]\n $&"):
        return ""
    return base


# --- extensions: call settings and follow-me ------------------------------------------------------

def _forward(v: TenantView, ext: Row, value: str) -> str:
    if not value:
        return ""
    number = text.dialable(value)
    return number if number and number != ext["number"] and v.dialable(number) else ""


def followme_numbers(v: TenantView, ext: Row) -> list[str]:
    if not ext.get("followme_numbers"):
        return []
    return [n for n in (text.dialable(x) for x in ext.get("followme_numbers") or [])
            if n and n != ext["number"] and v.dialable(n)]


def extension_settings(v: TenantView, ext: Row, legs: list[str] | None = None) -> str:
    legs = followme_numbers(v, ext) if legs is None else legs
    return settings_value(ext.get("settings_version") or 0, ext["dnd"],
                          _forward(v, ext, ext["forward_always"]), _forward(v, ext, ext["forward_busy"]),
                          _forward(v, ext, ext["forward_no_answer"]), bool(ext.get("followme_enabled") and legs))


def _lines(v: TenantView) -> dict[str, str]:
    """The per-tenant parts of every extension's priorities, built once per tenant (10,000
    extensions render in a fraction of a second only if each costs a few string joins)."""
    cached = v.__dict__.get("_tl_ext_lines")
    if cached is None:
        internal = v.ctx("internal")
        cached = v.__dict__["_tl_ext_lines"] = {
            "settings": f"Gosub({v.ctx('settings')},s,1(",
            **{var: f'GotoIf($["${{{var}}}" != ""]?{internal},${{{var}}},1)' for var in ("TL_CFA", "TL_CFB", "TL_CFNA")},
        }
    return cached


def extension_apps(v: TenantView, ext: Row) -> list[tuple[str, str]]:
    """The priorities of one extension: settings, forwards, DND, ring (with follow-me), voicemail."""
    slug, number = v.slug, ext["number"]
    mailbox = f"{number}@{slug}" if ext["voicemail_enabled"] else None
    lines = _lines(v)
    legs = followme_numbers(v, ext)
    apps: list[tuple[str, str]] = [
        ("", f"NoOp({slug}: {number} {text.label(ext['name'])})"),
        ("", f"{lines['settings']}{number},{extension_settings(v, ext, legs)}))"),
        ("", lines["TL_CFA"]),
        ("", '''GotoIf($["${TL_DND}" = "1"]?busy)'''),
    ]
    if ext["recording_inbound"] == "always":
        apps.append(("", f"MixMonitor({slug}/${{UNIQUEID}}.wav,b)"))  # one directory per tenant
    options = ",x" if ext["recording_inbound"] == "on_demand" else ""
    if legs:
        apps.append(("", '''GotoIf($["${TL_FM}" = "1"]?followme)'''))
    apps.append(("", f"Dial(PJSIP/{v.endpoint(number)},{ext['ring_time']}{options})"))
    apps.append(("dialed", '''GotoIf($["${DIALSTATUS}" = "BUSY"]?busy)'''))
    apps.append(("noanswer", lines["TL_CFNA"]))
    if mailbox:
        apps.append(("", f"VoiceMail({mailbox},u)"))
    apps.append(("", "Hangup()"))
    apps.append(("busy", lines["TL_CFB"]))
    apps.append(("", f"VoiceMail({mailbox},b)" if mailbox else "Busy(5)"))
    apps.append(("", "Hangup()"))
    if legs:
        fm = v.ctx("fm", ext["id"])
        dial = "&".join([f"PJSIP/{v.endpoint(number)}"] + [f"Local/{i}@{fm}/n" for i in range(1, len(legs) + 1)])
        total = int(ext["ring_time"]) + int(ext.get("followme_delay") or 0)
        apps.append(("followme", f"Dial({dial},{total}{options})"))
        apps.append(("", "Goto(dialed)"))
    return apps


def _leg(v: TenantView, number: str, ring_time: int) -> str | None:
    """Ring one target from a Local leg: an extension's phone, or an outside number."""
    by_number = v.__dict__.get("_tl_ext_by_number")
    if by_number is None:
        by_number = v.__dict__["_tl_ext_by_number"] = {e["number"]: e for e in v.extensions}
    ext = by_number.get(number)
    if ext is not None:
        return f"Dial(PJSIP/{v.endpoint(number)},{int(ring_time)})"
    if number.startswith("+") and number[1:].isdigit():
        return f"Goto({v.ctx('external')},{number},1)"
    if v.dialable(number) and number not in v.internal_numbers:
        return f"Goto({v.ctx('outbound')},{number},1)"
    return None


def _followme(out, v: TenantView) -> None:
    for ext in v.extensions:
        legs = followme_numbers(v, ext)
        if not legs:
            continue
        out.append(f"[{v.ctx('fm', ext['id'])}]")
        out.append(f"; follow-me of {ext['number']}: after {int(ext.get('followme_delay') or 0)} s")
        for index, number in enumerate(legs, start=1):
            leg = _leg(v, number, ext["ring_time"]) or "Hangup()"
            apps = [("", f"Wait({int(ext['followme_delay'])})")] if ext.get("followme_delay") else []
            out.exten(str(index), apps + [("", leg), ("", "Hangup()")])
        out.append("")


def _settings(out, v: TenantView) -> None:
    key = f"{ASTDB_FAMILY}/{v.slug}/${{ARG1}}"
    internal = v.ctx("internal")
    out.append(f"[{v.ctx('settings')}]")
    out.append("; Gosub(...(<extension>,<rendered settings>)): the rendered settings, or AstDB TL/<tenant>/<extension>")
    out.append("; when its version is newer -> TL_DND, TL_FM, TL_CFA, TL_CFB, TL_CFNA; PICKUPMARK for ** pickup")
    out.exten("s", [
        ("", "Set(TL_CS=${ARG2})"),
        ("", f"Set(__PICKUPMARK=${{ARG1}}-{v.slug})"),
        ("", "Set(TL_HOPS=$[0${TL_HOPS} + 1])"),
        ("", f"GotoIf($[${{DB_EXISTS({key})}} = 0]?use)"),
        ("", "GotoIf($[0${CUT(DB_RESULT,:,1)} <= 0${CUT(TL_CS,:,1)}]?use)"),
        ("", "Set(TL_CS=${DB_RESULT})"),
        ("use", "Set(TL_DND=${CUT(TL_CS,:,2)})"),
        ("", "Set(TL_FM=${CUT(TL_CS,:,6)})"),
        ("", "Set(TL_CFA=)"),
        ("", "Set(TL_CFB=)"),
        ("", "Set(TL_CFNA=)"),
        ("", f"GotoIf($[${{TL_HOPS}} > {FORWARD_HOPS}]?done)"),
        ("", "Set(TL_CFA=${CUT(TL_CS,:,3)})"),
        ("", "Set(TL_CFB=${CUT(TL_CS,:,4)})"),
        ("", "Set(TL_CFNA=${CUT(TL_CS,:,5)})"),
        # A forward goes nowhere once its target is gone (an extension deleted since the code set it).
        *[("", f"ExecIf($[${{DIALPLAN_EXISTS({internal},${{{var}}},1)}} = 0]?Set({var}=))")
          for var in ("TL_CFA", "TL_CFB", "TL_CFNA")],
        ("done", "Return()"),
    ])
    out.append("")


# --- ring groups ---------------------------------------------------------------------------------

def ring_group_members(v: TenantView) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for m in sorted(v.data.rows.get("ring_group_members", []), key=lambda r: (r["ring_group_id"], r["position"],
                                                                              r["id"])):
        out.setdefault(m["ring_group_id"], []).append(m)
    return out


def _ring_groups(out, v: TenantView) -> None:
    members = ring_group_members(v)
    for rg in v.ring_groups:
        legs = []  # (index, member) of members that can ring
        for m in members.get(rg["id"], []):
            if m["extension_id"]:
                ext = v.ext_by_id.get(m["extension_id"])
                target = ext["number"] if ext else ""
            else:
                target = text.dialable(m["number"])
            leg = _leg(v, target, m["ring_time"]) if target else None
            if leg:
                legs.append((len(legs) + 1, m, leg))
        ctx, legs_ctx = v.ctx("rg", rg["id"]), v.ctx("rgm", rg["id"])
        out.append(f"[{ctx}]")
        apps = [("", f"NoOp({v.slug}: ring group {rg['number']} {text.label(rg['name'])} ({rg['strategy']}))")]
        prefix = text.callerid_name(rg["caller_id_prefix"], 20)
        if prefix:
            apps.append(("", f"Set(CALLERID(name)={prefix} ${{CALLERID(name)}})"))
        local = {i: f"Local/{i}@{legs_ctx}/n" for i, _, _ in legs}
        if legs and rg["strategy"] == "hunt":
            apps += [("", f"Dial({local[i]},{int(m['ring_time'])})") for i, m, _ in legs]
        elif legs and rg["strategy"] == "memoryhunt":
            apps += [("", f"Dial({'&'.join(local[j] for j in range(1, i + 1))},{int(m['ring_time'])})")
                     for i, m, _ in legs]
        elif legs:
            apps.append(("", f"Dial({'&'.join(local.values())},{int(rg['ring_time'])})"))
        apps += [("", app) for app in v.destination(rg, "no_answer")]
        if apps[-1][1] != "Hangup()":
            apps.append(("", "Hangup()"))
        out.exten("s", apps)
        out.append("")
        if legs:
            out.append(f"[{legs_ctx}]")
            for i, m, leg in legs:
                delay = int(m["delay"] or 0) if rg["strategy"] == "ringall" else 0
                out.exten(str(i), ([("", f"Wait({delay})")] if delay else []) + [("", leg), ("", "Hangup()")])
            out.append("")


# --- call blocking -------------------------------------------------------------------------------

def number_forms(number: str, region: str) -> list[str]:
    """The forms a carrier may send a caller's number in: E.164, country code + national number,
    the national number, and for non-NANP countries 0 + national and 00 + international."""
    forms = [number]
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return forms
    cc, nsn = str(parsed.country_code), phonenumbers.national_significant_number(parsed)
    forms += [cc + nsn]
    if phonenumbers.region_code_for_country_code(parsed.country_code) == (region or "").upper() or cc == "1":
        forms.append(nsn)
    if cc != "1":
        forms += ["0" + nsn, "00" + cc + nsn]
    return list(dict.fromkeys(f for f in forms if text.dialable(f) == f))


def _block_lists(v: TenantView) -> list[Row]:
    return sorted((r for r in v.data.rows.get("block_lists", []) if r["enabled"]), key=lambda r: r["id"])


def block_apps(v: TenantView, did: Row) -> list[tuple[str, str]]:
    """The checks of an inbound DID, before its destination: every enabled list for all DIDs or
    naming this DID. Anonymous first (no number left once non-digits are dropped, or a
    presentation that is restricted), then each list's numbers and patterns."""
    linked = {r["blocklist_id"] for r in v.data.rows.get("block_list_dids", []) if r["did_id"] == did["id"]}
    lists = [bl for bl in _block_lists(v) if bl["all_dids"] or bl["id"] in linked]
    if not lists:
        return []
    blocked = v.ctx("blocked")
    apps = [("", "Set(TL_CID=${FILTER(0-9+,${CALLERID(num)})})")]
    anonymous = next((bl for bl in lists if bl["block_anonymous"]), None)
    if anonymous is not None:
        apps.append(("", f'''GotoIf($["${{TL_CID}}" = "" | "${{CALLERID(pres):0:6}}" = "prohib"]'''
                         f'''?{blocked},{anonymous['action']},1)'''))
    entries = _entries_by_list(v)
    for bl in lists:
        if entries.get(bl["id"]):
            apps.append(("", f"GotoIf(${{DIALPLAN_EXISTS({v.ctx('blocklist', bl['id'])},${{TL_CID}},1)}}"
                             f"?{blocked},{bl['action']},1)"))
    return apps


def _entries_by_list(v: TenantView) -> dict[int, list[str]]:
    cache = v.__dict__.get("_tl_block_entries")
    if cache is not None:
        return cache
    out: dict[int, list[str]] = {}
    region = v.info.default_region
    for entry in sorted(v.data.rows.get("block_list_entries", []), key=lambda r: (r["block_list_id"], r["id"])):
        if entry["kind"] == "pattern":
            values = [text.pattern(entry["value"])]
        else:
            values = number_forms(entry["value"], region)
        out.setdefault(entry["block_list_id"], []).extend(x for x in values if x)
    v.__dict__["_tl_block_entries"] = out
    return out


def _blocking(out, v: TenantView) -> None:
    lists = _block_lists(v)
    if not lists:
        return
    entries = _entries_by_list(v)
    for bl in lists:
        values = list(dict.fromkeys(entries.get(bl["id"], [])))
        if not values:
            continue
        out.append(f"[{v.ctx('blocklist', bl['id'])}]")
        out.append(f"; block list {text.label(bl['name'])}: looked up with DIALPLAN_EXISTS, never dialled")
        for value in values:
            out.exten(value, [("", "Hangup(21)")])
        out.append("")
    out.append(f"[{v.ctx('blocked')}]")
    for action in sorted({bl["action"] for bl in lists} & set(BLOCK_ACTIONS)):
        out.exten(action, [("", f"NoOp({v.slug}: caller ${{CALLERID(num)}} blocked)")]
                  + [("", app) for app in BLOCK_ACTIONS[action]])
    out.append("")


# --- feature codes -------------------------------------------------------------------------------

def effective_codes(v: TenantView) -> list[fc.EffectiveCode]:
    return [c for c in fc.effective(v.data.rows.get("feature_codes", [])) if c.enabled]


def _agi_feature(base: str, v: TenantView, key: str, argument: str) -> list[tuple[str, str]]:
    return [("", "Answer()"), ("", "Set(TL_FC=)"),
            ("", f"AGI({base}/feature-code?tenant={v.slug},{key},${{TL_EXTEN}},{argument})"),
            ("", '''Playback(${IF($["${TL_FC}" = "ok"]?beep:beeperr)})'''), ("", "Hangup()")]


def _features(out, v: TenantView) -> None:
    base = agi_base()
    out.append(f"[{v.ctx('features')}]")
    if not base:
        out.append("; PBX_AGI_URL is not set: the feature codes that change settings are left out")
    for item in effective_codes(v):
        key, code = item.feature.key, item.code
        if not all(c.isdigit() or c in "*#" for c in code):
            continue
        pattern = f"_{code}X."
        skip = len(code)
        if item.feature.agi:
            if not base:
                continue
            if item.feature.argument == "number":
                out.exten(code, [("", "Answer()"), ("", "Read(TL_FCARG,beep,20,,1,8)")]
                          + _agi_feature(base, v, key, "${TL_FCARG}")[1:])
                out.exten(pattern, _agi_feature(base, v, key, f"${{EXTEN:{skip}}}"))
            elif item.feature.argument == "queue":
                out.exten(code, _agi_feature(base, v, key, ""))
                out.exten(pattern, _agi_feature(base, v, key, f"${{EXTEN:{skip}}}"))
            else:
                out.exten(code, _agi_feature(base, v, key, ""))
        elif key == "voicemail":
            out.exten(code, [("", "Answer()"), ("", f"VoiceMailMain(${{TL_EXTEN}}@{v.slug})"), ("", "Hangup()")])
        elif key == "voicemail_any":
            out.exten(code, [("", "Answer()"), ("", f"VoiceMailMain(@{v.slug})"), ("", "Hangup()")])
        elif key == "pickup":
            out.exten(code, [("", "Pickup()"), ("", "Hangup()")])
        elif key == "directed_pickup":
            out.exten(pattern, [("", f"Pickup(${{EXTEN:{skip}}}-{v.slug}@PICKUPMARK)"), ("", "Hangup()")])
        elif key == "intercom":
            out.exten(pattern, [
                ("", f"GotoIf($[${{DIALPLAN_EXISTS({v.ctx('extensions')},${{EXTEN:{skip}}},1)}} = 0]?nope)"),
                ("", f"Page(PJSIP/${{EXTEN:{skip}}}-{v.slug},dib({v.ctx('autoanswer')}^s^1),30)"),
                ("", "Hangup()"), ("nope", "Playback(beeperr)"), ("", "Hangup()")])
        elif key == "park":
            lot = first_parking_lot(v)
            if lot:
                out.exten(code, [("", f"Park({lot})"), ("", "Hangup()")])
    out.append("")
    out.append(f"[{v.ctx('autoanswer')}]")
    out.exten("s", [("", app) for app in AUTOANSWER_HEADERS] + [("", "Return()")])
    out.append("")


def first_parking_lot(v: TenantView) -> str:
    """Name of the tenant's first parking lot in res_parking.conf, "" without one."""
    lots = getattr(v, "parking_lots", None) or []
    return lots[0]["lot_name"] if lots else ""


# --- conferences, paging, parking ----------------------------------------------------------------

USER_MENU = "tl-conf-user-menu"
ADMIN_MENU = "tl-conf-admin-menu"
PIN_ATTEMPTS = 3


def _pin_hash(v: TenantView, conf: Row, pin: str) -> str:
    import hashlib

    return hashlib.sha1(f"{v.slug}-{conf['id']}-{pin}".encode()).hexdigest()


def _conferences(out, v: TenantView) -> None:
    from apps.pbx.render import names

    for conf in v.conferences:
        room = names.conference(conf["id"], v.slug)
        bridge = names.conference(conf["id"], v.slug, "bridge")
        join_user = f"ConfBridge({room},{bridge},{names.conference(conf['id'], v.slug, 'user')},{USER_MENU})"
        join_admin = f"ConfBridge({room},{bridge},{names.conference(conf['id'], v.slug, 'admin')},{ADMIN_MENU})"
        pin = "".join(c for c in (conf["pin"] or "") if c.isdigit())
        admin_pin = "".join(c for c in (conf["admin_pin"] or "") if c.isdigit())
        out.append(f"[{v.ctx('conf', conf['id'])}]")
        apps = [("", f"NoOp({v.slug}: conference {conf['number']} {text.label(conf['name'])})"), ("", "Answer()")]
        if not pin and not admin_pin:
            apps += [("", join_user), ("", "Hangup()")]
        else:
            # PINs are compared as salted SHA-1 digests: the file never holds a PIN.
            salted = f"${{SHA1({v.slug}-{conf['id']}-${{TL_PIN}})}}"
            apps += [("", "Set(TL_TRIES=0)"), ("pin", "Read(TL_PIN,conf-getpin,10,,1,10)")]
            if admin_pin:
                apps.append(("", f'GotoIf($["{salted}" = "{_pin_hash(v, conf, admin_pin)}"]?admin)'))
            apps.append(("", f'GotoIf($["{salted}" = "{_pin_hash(v, conf, pin)}"]?user)'))
            apps += [("", "Set(TL_TRIES=$[${TL_TRIES} + 1])"), ("", "Playback(conf-invalidpin)"),
                     ("", f"GotoIf($[${{TL_TRIES}} < {PIN_ATTEMPTS}]?pin)"), ("", "Hangup()"),
                     ("user", join_user), ("", "Hangup()")]
            if admin_pin:
                apps += [("admin", join_admin), ("", "Hangup()")]
        out.exten("s", apps)
        out.append("")


def _paging(out, v: TenantView) -> None:
    members: dict[int, list[str]] = {}
    for m in sorted(v.data.rows.get("paging_members", []), key=lambda r: (r["group_id"], r["extension_id"])):
        ext = v.ext_by_id.get(m["extension_id"])
        if ext is not None:
            members.setdefault(m["group_id"], []).append(f"PJSIP/{v.endpoint(ext['number'])}")
    for group in v.paging_groups:
        out.append(f"[{v.ctx('page', group['id'])}]")
        apps = [("", f"NoOp({v.slug}: paging group {group['number']} {text.label(group['name'])})")]
        phones = members.get(group["id"], [])
        if phones:
            # i: ignore forwards, s: only idle phones, d: two-way (intercom), b(): auto-answer headers
            options = "is" + ("d" if group["duplex"] else "") + f"b({v.ctx('autoanswer')}^s^1)"
            apps.append(("", f"Page({'&'.join(phones)},{options},{int(group['timeout'])})"))
        apps.append(("", "Hangup()"))
        out.exten("s", apps)
        out.append("")


def _slots(lot: Row) -> list[str]:
    width = len(lot["slot_start"])
    return [str(n).zfill(width) for n in range(int(lot["slot_start"]), int(lot["slot_end"]) + 1)][:100]


def render_confbridge(views: list[TenantView], server_name: str) -> str:
    from apps.pbx.render import names

    out = [f"; confbridge.conf for server {text.label(server_name)}. Generated by the Thirdlane portal: do not edit.",
           "[general]", "",
           f"[{USER_MENU}]", "type = menu", "1 = toggle_mute", "4 = decrease_listening_volume",
           "6 = increase_listening_volume", "9 = leave_conference", "",
           f"[{ADMIN_MENU}]", "type = menu", "1 = toggle_mute", "2 = admin_toggle_conference_lock",
           "3 = admin_kick_last", "4 = decrease_listening_volume", "6 = increase_listening_volume",
           "8 = admin_toggle_mute_participants", "9 = leave_conference", ""]
    for v in views:
        for conf in v.conferences:
            music = text.sound(conf["music_class"]) or "default"
            out += [f"; {v.slug} conference {conf['number']} {text.label(conf['name'])}",
                    f"[{names.conference(conf['id'], v.slug, 'bridge')}]", "type = bridge"]
            if conf["max_members"]:
                out.append(f"max_members = {int(conf['max_members'])}")
            if conf["record"]:
                # With an extension: MixMonitor takes the format from it and, without one, writes a
                # headerless .raw file (seen on Asterisk 22.10.1); ConfBridge inserts -<epoch> before it.
                out += ["record_conference = yes", f"record_file = {v.slug}/conference-{conf['number']}.wav"]
            out.append("")
            for profile, admin in (("user", False), ("admin", True)):
                out += [f"[{names.conference(conf['id'], v.slug, profile)}]", "type = user"]
                if admin:
                    out += ["admin = yes", "marked = yes"]
                elif conf["wait_for_admin"]:
                    out += ["wait_marked = yes", "end_marked = yes"]
                out += [f"music_on_hold_when_empty = {'yes' if conf['music_when_alone'] else 'no'}",
                        f"music_on_hold_class = {music}", "announce_user_count = yes"]
                if conf["announce_join_leave"]:
                    out.append("announce_join_leave = yes")
                out.append("")
    return "\n".join(out) + "\n"


def render_parking(views: list[TenantView], server_name: str) -> str:
    out = [f"; res_parking.conf for server {text.label(server_name)}. Generated by the Thirdlane portal: do not edit.",
           "[general]", ""]
    for v in views:
        for lot in v.parking_lots:
            slots = _slots(lot)
            out += [f"; {v.slug} parking lot {lot['number']} {text.label(lot['name'])}", f"[{lot['lot_name']}]",
                    f"context = {v.ctx('parked', lot['id'])}", f"parkpos = {slots[0]}-{slots[-1]}",
                    f"parkingtime = {int(lot['timeout'])}", "comebacktoorigin = yes", "comebackdialtime = 30",
                    f"parkedmusicclass = {text.sound(lot['music_class']) or 'default'}", "findslot = next",
                    "parkedcalltransfers = caller", ""]
    return "\n".join(out) + "\n"


# --- the hooks dialplan.py calls -----------------------------------------------------------------

def phone_lines(v: TenantView, ext: Row) -> list[str]:
    """pjsip.conf endpoint lines of a phone: its tenant is its call and pickup group (``*8``)."""
    return [f"named_call_group = {v.slug}", f"named_pickup_group = {v.slug}"]


def internal_includes(v: TenantView) -> list[str]:
    return [v.ctx("features")]


def extensions_entries(out, v: TenantView) -> None:
    """Numbers of the features in ``t-extensions`` (the internal number plan)."""
    for rg in v.ring_groups:
        out.exten(rg["number"], [("", f"Goto({v.ctx('rg', rg['id'])},s,1)")])
    for conf in v.conferences:
        out.exten(conf["number"], [("", f"Goto({v.ctx('conf', conf['id'])},s,1)")])
    for group in v.paging_groups:
        out.exten(group["number"], [("", f"Goto({v.ctx('page', group['id'])},s,1)")])
    for lot in v.parking_lots:
        out.exten(lot["number"], [("", f"Park({lot['lot_name']})"), ("", "Hangup()")])
        for slot in _slots(lot):
            out.exten(slot, [("", f"ParkedCall({lot['lot_name']},{slot})"), ("", "Hangup()")])


def render_tenant(out, v: TenantView) -> None:
    """Every feature context of one tenant (after the core contexts)."""
    _settings(out, v)
    _followme(out, v)
    _ring_groups(out, v)
    _blocking(out, v)
    _conferences(out, v)
    _paging(out, v)
    _features(out, v)
