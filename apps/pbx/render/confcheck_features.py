"""Checks of the config checker for the PBX features (issue 12), called by confcheck.validate.

- every dialplan application and every ``${FUNCTION(...)}`` is one Asterisk 22 has (the names
  below are those of Asterisk 22's apps/ and funcs/ modules that a PBX like ours uses, spelled as
  ``core show applications`` / ``core show functions`` list them on Asterisk 22.10.1; the test
  tests/pbx/test_asterisk22_hand_check.py holds them against that recorded list). Asterisk finds
  an application whatever its case (``pbx_findapp``: strcasecmp) but a function only by its exact
  name (``ast_custom_function_find``: strcmp), so applications are compared case-insensitively and
  functions exactly;
- ``Local/<exten>@<context>`` in Dial reaches an extension of a context that exists;
- ``Page()``'s ``b(context^exten^priority)`` pre-dial handler exists;
- ``Park(<lot>)`` / ``ParkedCall(<lot>,...)`` name a lot of res_parking.conf, and every lot has
  the options res_parking needs, with known names only;
- ``ConfBridge(<conf>,<bridge profile>,<user profile>,<menu>)`` name profiles and menus of
  confbridge.conf of the right type, and each profile uses known options only.
"""
from __future__ import annotations

import re

from apps.pbx.render.confcheck import ConfError, find_extension, parse, split_args

# Not here although older checkers knew them: ImportVar, MacroExit, SIPAddHeader, SetMusicOnHold and
# CALLERPRES(), gone from Asterisk 21 on (a real 22.10.1 does not have them).
APPLICATIONS = frozenset("""
AGI AddQueueMember Answer Authenticate BackGround Busy ChanIsAvail ChannelRedirect ConfBridge
Congestion ContinueWhile DISA Dial Directory EAGI Echo EndWhile Exec ExecIf ExecIfTime ExitWhile FollowMe Gosub
GosubIf Goto GotoIf GotoIfTime Hangup Log MixMonitor MusicOnHold NoOp Page Park ParkedCall
PauseQueueMember Pickup PickupChan Playback PlayTones Progress Queue QueueLog Read ReadExten Record
RemoveQueueMember Return Ringing SayAlpha SayDigits SayNumber Set SoftHangup
StopMixMonitor StopMusicOnHold StopPlayTones System Transfer UnpauseQueueMember UserEvent Verbose VoiceMail
VoiceMailMain Wait WaitExten WaitForSilence While
""".split())
_APPLICATIONS_FOLDED = frozenset(name.casefold() for name in APPLICATIONS)
FUNCTIONS = frozenset("""
AGENT BLACKLIST CALLERID CDR CHANNEL CONFBRIDGE CONFBRIDGE_INFO CONNECTEDLINE CUT DB DB_DELETE DB_EXISTS
DB_KEYS DEVICE_STATE DIALPLAN_EXISTS EVAL EXISTS EXTENSION_STATE FIELDQTY FILTER GLOBAL GROUP GROUP_COUNT
GROUP_LIST GROUP_MATCH_COUNT HASH IF IFTIME ISNULL LEN LOCAL MATH PJSIP_AOR PJSIP_CONTACT PJSIP_ENDPOINT
PJSIP_HEADER QUEUE_MEMBER QUEUE_MEMBER_COUNT QUEUE_VARIABLES QUOTE RAND REGEX REPLACE SET SHA1 SHELL SPRINTF
STAT STRFTIME STRPTIME TIMEOUT TOLOWER TOUPPER TRYLOCK UNLOCK VALID_EXTEN VM_INFO
""".split())
FUNCTION_CALL = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\(")


def known_application(name: str) -> bool:
    """Whether Asterisk 22 runs ``name`` as an application (in any case, as pbx_findapp does)."""
    return name.casefold() in _APPLICATIONS_FOLDED


def known_function(name: str) -> bool:
    """Whether ``${name(...)}`` is an Asterisk 22 function (exact name, as ast_custom_function_find)."""
    return name in FUNCTIONS


PARKING_OPTIONS = frozenset("""
context parkext parkext_exclusive parkpos parkinghints parkingtime parkedmusicclass comebacktoorigin
comebackdialtime comebackcontext courtesytone parkedplay parkedcalltransfers parkedcallreparking
parkedcallhangup parkedcallrecording findslot parkeddynamic
""".split())
BRIDGE_OPTIONS = frozenset("""
type max_members record_conference record_file record_file_append record_file_timestamp record_options
record_command internal_sample_rate maximum_sample_rate mixing_interval video_mode language sound_join
sound_leave sound_only_person sound_only_one sound_has_joined sound_has_left sound_kicked sound_muted
sound_unmuted sound_there_are sound_other_in_party sound_place_into_conference sound_wait_for_leader
sound_leader_has_left sound_get_pin sound_invalid_pin sound_locked sound_locked_now sound_unlocked_now
sound_error_menu sound_participants_muted sound_participants_unmuted regcontext enable_events
""".split())
USER_OPTIONS = frozenset("""
type admin marked startmuted music_on_hold_when_empty music_on_hold_class quiet announce_user_count
announce_user_count_all announce_only_user wait_marked end_marked end_marked_any dsp_drop_silence
dsp_talking_threshold dsp_silence_threshold talk_detection_events denoise jitterbuffer pin announce_join_leave
announce_join_leave_review dtmf_passthrough announcement timeout text_messaging answer_channel
""".split())
MENU_ACTIONS = re.compile(r"^(playback|playback_and_continue)\([A-Za-z0-9_/&-]+\)$|^(toggle_mute|no_op|"
                          r"decrease_listening_volume|increase_listening_volume|reset_listening_volume|"
                          r"decrease_talking_volume|increase_talking_volume|reset_talking_volume|"
                          r"dialplan_exec\([^)]*\)|leave_conference|participant_count|admin_kick_last|"
                          r"admin_toggle_conference_lock|admin_toggle_mute_participants|set_as_single_video_src|"
                          r"release_as_single_video_src)$")


def _sections(files: dict[str, str], name: str):
    text = files.get(name)
    return parse(text, name) if text else []


def check(contexts, files: dict[str, str]) -> list[str]:
    errors: list[str] = []
    try:
        lots = {s.name: s for s in _sections(files, "res_parking.conf") if s.name != "general"}
        confbridge = {s.name: s for s in _sections(files, "confbridge.conf")}
    except ConfError as exc:
        return [str(exc)]
    errors += _check_parking(lots, contexts)
    errors += _check_confbridge(confbridge)
    for ctx in contexts.values():
        for exten, prios in ctx.extensions.items():
            for p in prios:
                where = f"extensions.conf:{p.line}: {ctx.name},{exten}"
                if not known_application(p.app):
                    errors.append(f"{where}: {p.app} is not an Asterisk 22 application")
                for name in FUNCTION_CALL.findall(p.args):
                    if not known_function(name):
                        errors.append(f"{where}: {name}() is not an Asterisk 22 function"
                                      + (f" (function names are case-sensitive: {name.upper()})"
                                         if known_function(name.upper()) else ""))
                args = split_args(p.args)
                if p.app == "Dial":
                    errors += [f"{where}: {e}" for e in _local_targets(contexts, args[0])]
                elif p.app == "Page":
                    errors += [f"{where}: {e}" for e in _local_targets(contexts, args[0])]
                    handler = re.search(r"b\(([^)^]+)\^([^)^]+)\^([^)^]+)\)", args[1] if len(args) > 1 else "")
                    if handler and find_extension(contexts, handler.group(1), handler.group(2)) is None:
                        errors.append(f"{where}: Page pre-dial handler {handler.group(1)},{handler.group(2)} "
                                      "does not exist")
                elif p.app in ("Park", "ParkedCall") and args[0] and "${" not in args[0]:
                    if args[0] not in lots:
                        errors.append(f"{where}: {p.app} uses unknown parking lot {args[0]}")
                elif p.app == "ConfBridge":
                    errors += [f"{where}: {e}" for e in _confbridge_call(confbridge, args)]
    return errors


def _local_targets(contexts, dial: str) -> list[str]:
    out = []
    for dest in dial.split("&"):
        tech, _, rest = dest.partition("/")
        if tech != "Local" or "${" in rest:
            continue
        exten, _, tail = rest.partition("@")
        context = tail.split("/")[0]
        if context not in contexts:
            out.append(f"Local channel to unknown context {context}")
        elif find_extension(contexts, context, exten) is None:
            out.append(f"Local channel to unknown extension {exten}@{context}")
    return out


def _check_parking(lots, contexts) -> list[str]:
    errors = []
    for name, section in lots.items():
        for item in section.items:
            if item.key not in PARKING_OPTIONS:
                errors.append(f"res_parking.conf:{item.line}: [{name}] unknown option {item.key}")
        if not section.get("context") or not section.get("parkpos"):
            errors.append(f"res_parking.conf:{section.line}: [{name}] needs context and parkpos")
        for value in section.get("parkpos"):
            if not re.fullmatch(r"\d+-\d+", value) or int(value.split("-")[0]) > int(value.split("-")[1]):
                errors.append(f"res_parking.conf:{section.line}: [{name}] parkpos {value} is not a range")
        for ctx in section.get("context"):
            if ctx in contexts:
                errors.append(f"res_parking.conf:{section.line}: [{name}] context {ctx} is also a dialplan context")
    return errors


def _check_confbridge(sections) -> list[str]:
    errors = []
    for name, section in sections.items():
        if name == "general":
            continue
        kinds = section.get("type")
        if kinds not in (["bridge"], ["user"], ["menu"]):
            errors.append(f"confbridge.conf:{section.line}: [{name}] needs one type of bridge, user or menu")
            continue
        allowed = BRIDGE_OPTIONS if kinds == ["bridge"] else USER_OPTIONS
        for item in section.items:
            if kinds == ["menu"]:
                if item.key != "type" and not MENU_ACTIONS.match(item.value):
                    errors.append(f"confbridge.conf:{item.line}: [{name}] unknown menu action {item.value}")
            elif item.key not in allowed:
                errors.append(f"confbridge.conf:{item.line}: [{name}] unknown option {item.key}")
    return errors


def _confbridge_call(sections, args: list[str]) -> list[str]:
    errors = []
    for index, kind in ((1, "bridge"), (2, "user"), (3, "menu")):
        if len(args) > index and args[index] and "${" not in args[index]:
            section = sections.get(args[index])
            if section is None or section.get("type") != [kind]:
                errors.append(f"ConfBridge {kind} profile {args[index]} is not in confbridge.conf")
    return errors
