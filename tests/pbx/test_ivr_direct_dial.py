"""IVR options act on the first digit even when extensions start with the same digit (direct dial)."""
import pytest

from apps.pbx.render import render_server
from apps.pbx.render.confcheck import find_extension, matches_more, parse_dialplan, validate
from apps.telephony import services as tel
from tests.pbx.golden.demo import build_demo

pytestmark = pytest.mark.django_db


def test_matches_more_follows_asterisk_patterns_and_includes():
    contexts, errors = parse_dialplan(
        "[a]\nexten => 1,1,NoOp()\nexten => 12,1,NoOp()\ninclude => b\n"
        "[b]\nexten => _3XX,1,NoOp()\nexten => _7.,1,NoOp()\nexten => _globe[x]1\\;li[n]e=.,1,NoOp()\n")
    assert errors == []
    assert matches_more(contexts, "a", "1") and not matches_more(contexts, "a", "12")
    assert matches_more(contexts, "a", "3") and matches_more(contexts, "a", "31") and not matches_more(contexts, "a", "312")
    assert matches_more(contexts, "a", "7") and matches_more(contexts, "a", "7123")
    assert not matches_more(contexts, "a", "4")
    assert matches_more(contexts, "a", "globex1;line=") and not matches_more(contexts, "a", "globe1")


def test_option_digits_never_wait_for_more_digits_with_direct_dial(world, system_actor):
    server, objects = build_demo(system_actor, world)
    files = render_server(server).files
    assert validate(files) == []
    contexts, _ = parse_dialplan(files["extensions.conf"])
    ivr = f"acme-ivr-{objects['acme']['ivr'].pk}"
    # Options 1, 2 and 9; extensions 1001-1003 and queue 2000 start with option digits.
    for digit in "129":
        assert find_extension(contexts, ivr, digit) is not None
        assert not matches_more(contexts, ivr, digit), f"option {digit} would wait for more digits"
    # Numbers starting with another digit are still direct-dialled (the IVR's own number is not).
    with_three = tel.extension_create(actor=system_actor, tenant=world.acme, number="4001", name="Dan",
                                      sip_secret="Demo-acme-Sip-eaab9", voicemail_pin="4827")
    contexts, _ = parse_dialplan(render_server(server).files["extensions.conf"])
    [goto] = find_extension(contexts, ivr, with_three.number)
    assert (goto.app, goto.args) == ("Goto", "acme-extensions,4001,1")
    assert find_extension(contexts, ivr, "1001") is None and find_extension(contexts, ivr, "3000") is None
    assert matches_more(contexts, ivr, "4") and not matches_more(contexts, ivr, "1")


def test_without_direct_dial_the_menu_reaches_no_extension(world, system_actor):
    server, objects = build_demo(system_actor, world)
    tel.ivr_update(actor=system_actor, tenant=world.acme, instance=objects["acme"]["ivr"], direct_dial=False)
    contexts, _ = parse_dialplan(render_server(server).files["extensions.conf"])
    ivr = f"acme-ivr-{objects['acme']['ivr'].pk}"
    assert contexts[ivr].includes == [] and sorted(contexts[ivr].extensions) == ["1", "2", "9", "i", "s", "t"]
