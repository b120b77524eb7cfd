"""What the hand check of the issue-12 features against a real Asterisk 22.10.1 found
(docs/asterisk.md, "Checked by hand against Asterisk 22.10.1"), pinned so it stays fixed:

- the config checker's applications and functions are names that Asterisk 22.10.1 registers
  (golden/asterisk-22.10.1-names.txt, recorded from its ``core show applications`` and
  ``core show functions``); applications match in any case, functions only exactly, as in Asterisk;
- conference recordings are WAV files: ``record_file`` without an extension made MixMonitor write a
  headerless ``.raw`` file.
"""
from pathlib import Path

import pytest

from apps.pbx.render import confcheck_features, render_server
from apps.pbx.render.confcheck import parse, parse_dialplan, validate
from tests.pbx.golden.features_demo import AGI_URL, build_features

NAMES = Path(__file__).parent / "golden" / "asterisk-22.10.1-names.txt"


def recorded() -> dict[str, set[str]]:
    lists: dict[str, set[str]] = {}
    current = None
    for line in NAMES.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = lists.setdefault(line[1:].split("]")[0], set())
        else:
            current.add(line)
    return lists


def check_line(app_and_args: str) -> list[str]:
    contexts, errors = parse_dialplan(f"[t-x]\nexten => s,1,{app_and_args}\n")
    assert errors == []
    return confcheck_features.check(contexts, {})


def test_the_checkers_names_are_those_asterisk_22_registers():
    names = recorded()
    assert len(names["applications"]) == 176 and len(names["functions"]) == 201
    on_the_pbx = {name.casefold() for name in names["applications"]}
    assert sorted(a for a in confcheck_features.APPLICATIONS if a.casefold() not in on_the_pbx) == []
    # Spelled as Asterisk lists them (BackGround, PlayTones, SoftHangup), so the list reads like the CLI.
    assert sorted(confcheck_features.APPLICATIONS - names["applications"]) == []
    assert sorted(confcheck_features.FUNCTIONS - names["functions"]) == []


def test_applications_match_in_any_case_functions_only_exactly():
    # pbx_findapp compares with strcasecmp: Asterisk runs Playtones(), Background(), SOFTHANGUP().
    for line in ("Playtones(ring)", "PlayTones(ring)", "Background(beep)", "BackGround(beep)",
                 "softhangup(PJSIP/x)"):
        assert check_line(line) == [], line
    # ast_custom_function_find compares with strcmp: ${cut(...)} is "Function cut not registered".
    [problem] = check_line("Set(X=${cut(Y,:,1)})")
    assert "cut() is not an Asterisk 22 function" in problem and "CUT" in problem
    assert check_line("Set(X=${CUT(Y,:,1)})") == []
    assert check_line("Set(X=${QUOTE(${ARG1})})") == []  # func_strings' QUOTE
    # Gone since Asterisk 21.
    for line in ("ImportVar(X=PJSIP/a,Y)", "MacroExit()", "SIPAddHeader(X: y)", "SetMusicOnHold(default)",
                 "Set(X=${CALLERPRES()})"):
        assert check_line(line) != [], line


@pytest.mark.django_db
def test_conference_recordings_are_wav_files(world, system_actor, settings):
    settings.PBX_AGI_URL = AGI_URL
    server, _ = build_features(system_actor, world)
    files = render_server(server).files
    assert validate(files) == []
    recorded_rooms = [s for s in parse(files["confbridge.conf"], "confbridge.conf") if s.get("record_conference")]
    assert recorded_rooms
    for section in recorded_rooms:
        [record_file] = section.get("record_file")
        assert record_file.endswith(".wav"), record_file  # Asterisk: <tenant>/conference-800-<epoch>.wav
        assert record_file.count("/") == 1 and not record_file.startswith("/")
