"""FastAgiServer against Asterisk's side of the recorded crm-lookup session."""

from __future__ import annotations

import logging

import pytest

from apps.pbx.agi import (
    AgiCommandError,
    AgiHangup,
    AgiRegistry,
    AgiReply,
    FastAgiServer,
    parse_reply,
    quote,
)

from .peers import FastAgiAsterisk, load_transcript

ENV = {
    "agi_network": "yes",
    "agi_network_script": "crm-lookup",
    "agi_request": "agi://127.0.0.1:4573/crm-lookup",
    "agi_channel": "Local/7000@acme-internal-00000017;2",
    "agi_uniqueid": "1795750899.47",
    "agi_callerid": "+15559876543",
    "agi_arg_1": "+15559876543",
}


@pytest.fixture
def registry():
    return AgiRegistry()


@pytest.fixture
def server(registry):
    with FastAgiServer("127.0.0.1", 0, registry=registry, env_timeout=2, command_timeout=2) as srv:
        yield srv


def asterisk(server, **options) -> FastAgiAsterisk:
    return FastAgiAsterisk(*server.address, **options)


def crm_lookup_as_recorded(seen: dict):
    """What the recorded FastAGI server did, step by step."""

    def handler(env, channel):
        seen["env"] = env
        channel.verbose("crm-lookup: looking up caller")
        seen["number"] = channel.get_variable("CALLERID(num)")
        channel.set_variable("CALLERID(name)", "Jane Doe")
        seen["missing"] = channel.get_variable("NO_SUCH_VARIABLE")
        seen["hangup"] = channel.wait_for_hangup(timeout=5)
        seen["name_after_hangup"] = channel.get_variable("CALLERID(name)")  # still answered 200
        channel.verbose("after hangup")
        seen["hungup"] = channel.hungup

    return handler


@pytest.mark.parametrize(
    ("chunking", "speed"),
    [("recorded", None), ("bytes", None), ("random:1-7", 0.1)],  # 0.1: HANGUP 0.25 s after the last reply
)
def test_crm_lookup_session_matches_the_recording_byte_for_byte(registry, server, chunking, speed):
    seen: dict = {}
    registry.register("crm-lookup")(crm_lookup_as_recorded(seen))
    result = asterisk(server, chunking=chunking).replay("agi-crm-lookup", speed=speed)
    assert result.errors == []
    assert result.received_bytes == load_transcript("agi-crm-lookup").data("agi-server")
    assert result.closed_by_server  # closing is what lets Asterisk continue the dialplan
    env = seen["env"]
    assert (env.script, env.args, env.callerid, env.calleridname) == (
        "crm-lookup", ["+15559876543"], "+15559876543", "Unknown Caller")
    assert env["agi_accountcode"] == "" and env.get("version") == "22.10.1"
    assert seen["number"] == "+15559876543"
    assert seen["missing"] is None  # `200 result=0`
    assert seen["hangup"] is True and seen["hungup"] is True
    assert seen["name_after_hangup"] == "Jane Doe"


def test_hangup_in_front_of_a_reply_is_consumed(registry, server):
    values = []

    @registry.register("crm-lookup")
    def handler(env, channel):
        values.append(channel.get_variable("CALLERID(num)"))
        values.append(channel.hungup)

    result = asterisk(server).session(ENV, lambda line: b"HANGUP\n200 result=1 (+15559876543)\n")
    assert result.received == [b"GET VARIABLE CALLERID(num)\n"]
    assert values == ["+15559876543", True]


def test_dead_channel_511_raises_agi_hangup(registry, server):
    raised = []

    @registry.register("crm-lookup")
    def handler(env, channel):
        try:
            channel.set_variable("CALLERID(name)", "Jane Doe")
        except AgiHangup as exc:
            raised.append(exc)
            raise  # the server treats it as a normal end of call

    dead = b"511 Command Not Permitted on a dead channel or intercepted channel\n"
    result = asterisk(server).session(ENV, lambda line: dead)
    assert result.closed_by_server and len(raised) == 1


def test_usage_error_520_is_read_to_its_end(registry, server):
    errors = []

    @registry.register("crm-lookup")
    def handler(env, channel):
        try:
            channel.command("GET VARIABLE")
        except AgiCommandError as exc:
            errors.append(exc)
        channel.verbose("still in sync")

    usage = b"520-Invalid command syntax.  Proper usage follows:\nUsage: GET VARIABLE <variablename>\n520 End of proper usage.\n"
    replies = iter([usage, b"200 result=1\n"])
    result = asterisk(server).session(ENV, lambda line: next(replies))
    assert result.received == [b"GET VARIABLE\n", b'VERBOSE "still in sync" 1\n']
    assert errors[0].code == 520 and "Usage: GET VARIABLE" in errors[0].text


def test_unknown_script_is_closed_without_commands(server, caplog):
    caplog.set_level(logging.WARNING, logger="apps.pbx.agi")
    result = asterisk(server).session({**ENV, "agi_network_script": "nope"}, lambda line: None)
    assert result.received == [] and result.closed_by_server
    assert "no handler for 'nope'" in caplog.text


def test_a_failing_handler_does_not_take_the_server_down(registry, server, caplog):
    @registry.register("boom")
    def boom(env, channel):
        raise RuntimeError("CRM is down")

    caplog.set_level(logging.ERROR, logger="apps.pbx.agi")
    failed = asterisk(server).session({**ENV, "agi_network_script": "boom"}, lambda line: None)
    assert failed.closed_by_server and "CRM is down" in caplog.text
    registry.register("crm-lookup")(lambda env, channel: channel.verbose("ok"))
    ok = asterisk(server).session(ENV, lambda line: b"200 result=1\n")
    assert ok.received == [b'VERBOSE "ok" 1\n']


def test_caller_data_cannot_inject_agi_commands(registry, server):
    refused = []

    @registry.register("crm-lookup")
    def handler(env, channel):
        channel.set_variable("CALLERID(name)", 'O"Brien \\ Co\nEXEC Dial PJSIP/evil')
        try:
            channel.get_variable("A B")  # a name is a bare token: no spaces
        except ValueError as exc:
            refused.append(exc)

    result = asterisk(server).session(ENV, lambda line: b"200 result=1\n")
    assert len(refused) == 1
    assert result.received == [b'SET VARIABLE CALLERID(name) "O\\"Brien \\\\ Co EXEC Dial PJSIP/evil"\n']


def test_dispatch_path_ignores_slashes_and_query(registry, server):
    got = []
    registry.register("/crm-lookup/")(lambda env, channel: got.append(env.query))
    asterisk(server).session({**ENV, "agi_network_script": "crm-lookup?tenant=acme"}, lambda line: None)
    assert got == [{"tenant": "acme"}]


def test_registry_refuses_a_second_handler_for_one_path(registry):
    registry.register("crm-lookup")(lambda env, channel: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("crm-lookup")(lambda env, channel: None)
    registry.register("crm-lookup", replace=True)(print)
    assert registry.resolve("/crm-lookup") is print and registry.paths() == ["crm-lookup"]


@pytest.mark.parametrize(("line", "reply"), [
    ("200 result=1", AgiReply(200, "1")),
    ("200 result=0", AgiReply(200, "0")),
    ("200 result=1 (+15559876543)", AgiReply(200, "1", "+15559876543")),
    ("200 result=1 (Jane Doe)", AgiReply(200, "1", "Jane Doe")),
    ("200 result=1 ()", AgiReply(200, "1", "")),
    ("200 result=1 (a (b) c)", AgiReply(200, "1", "a (b) c")),
    ("200 result=0 endpos=1234", AgiReply(200, "0", None, {"endpos": "1234"})),
    ("200 result=-1", AgiReply(200, "-1")),
])
def test_parse_reply(line, reply):
    assert parse_reply(line) == reply


def test_parse_reply_errors():
    with pytest.raises(AgiHangup):
        parse_reply("511 Command Not Permitted on a dead channel or intercepted channel")
    with pytest.raises(AgiCommandError) as info:
        parse_reply("510 Invalid or unknown command")
    assert info.value.code == 510


def test_quote():
    assert quote("crm-lookup: looking up caller") == '"crm-lookup: looking up caller"'
    assert quote('say "hi"\\') == '"say \\"hi\\"\\\\"'
