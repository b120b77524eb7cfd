"""AmiConnection against recorded Asterisk 22 sessions (see peers/ami_replay.py).

Each test drives the client through the same actions as the recording; the peer
fails the test if the client sends anything else, and `assert_replayed` checks
the client's bytes header for header.
"""

from __future__ import annotations

import logging
import time

import pytest

from apps.pbx.ami import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    parse_event,
)

from .helpers import SECRET, assert_replayed, connect
from .peers import AmiScript, load_transcript
from .peers.ami_wire import headers as wire_headers


def recorded_output(transcript: str, action_id: str) -> str:
    """The CLI text of a recorded Command response, read straight off the bytes."""
    data = load_transcript(transcript).data("server").decode()
    for block in data.split("\r\n\r\n"):
        if f"\r\nActionID: {action_id}\r\n" in block:
            return "\n".join(line[len("Output: "):] for line in block.split("\r\n") if line.startswith("Output: "))
    raise LookupError(action_id)


def drain(conn) -> list:
    """Every event left after the session ended (the queue outlives the socket)."""
    return list(conn.events())


# -- login ---------------------------------------------------------------------------------
def test_login_ping_with_and_without_action_id(replay):
    peer = replay("login-ok")
    with connect(peer) as ami:
        assert (ami.banner, ami.version) == ("Asterisk Call Manager/11.0.0", "11.0.0")
        pong = ami.ping()
        assert pong["Ping"] == "Pong" and pong.action_id.startswith("tl")
        bare = ami.action("Ping", ActionID=None)  # answered without ActionID: matched in order
        assert bare.action_id is None and bare["Ping"] == "Pong"
        settings = ami.action("CoreSettings")
        assert settings["AsteriskVersion"] == "22.10.1"
        assert settings["AMIversion"] == "11.0.0"
        assert settings["SystemName"] == ""  # `SystemName: ` is an empty value
        assert ami.action("CoreStatus")["CoreCurrentCalls"] == "0"
    assert [e.name for e in drain(ami)] == ["FullyBooted", "SuccessfulAuth"]
    assert not ami.connected
    assert_replayed(peer)
    assert peer.received[2] == b"Action: Ping\r\n\r\n"


def test_bad_login_raises_auth_error_after_asterisks_delay(replay, caplog):
    caplog.set_level(logging.WARNING, logger="apps.pbx.ami")
    peer = replay("login-bad", timing=True)  # keeps the recorded ~1 s before the answer
    ami = connect(peer, secret="wrong-secret")
    started = time.monotonic()
    with pytest.raises(AmiAuthError, match="Authentication failed") as info:
        ami.login()
    assert time.monotonic() - started >= 0.9
    assert "wrong-secret" not in str(info.value)
    assert not ami.connected
    with pytest.raises(AmiConnectionError):
        ami.ping()
    assert "lost" not in caplog.text  # the close that follows a refusal is expected
    assert_replayed(peer)


def test_login_with_events_off_sends_events_header(replay):
    peer = replay("pjsip-show-endpoints")
    with connect(peer, events=False) as ami:
        for frame in load_transcript("pjsip-show-endpoints").frames("client")[1:-1]:
            (_, name), *rest = wire_headers(frame)
            ami.action(name, check=False, **{k: v for k, v in rest if k != "ActionID"})
    assert peer.received[0].endswith(b"Events: off\r\n\r\n")
    assert_replayed(peer)


# -- Command ----------------------------------------------------------------------------------
def test_command_output_is_kept_verbatim(replay):
    peer = replay("command")
    with connect(peer, events=False) as ami:
        channels = ami.command("core show channels")
        endpoints = ami.command("pjsip show endpoints")
        version = ami.command("core show version")
        with pytest.raises(AmiActionError) as info:
            ami.command("no such command here")
    assert channels == recorded_output("command", "cmd-1")
    assert channels.splitlines()[0].endswith("Application(Data)             ")  # trailing spaces kept
    assert endpoints == recorded_output("command", "cmd-2")
    assert " Endpoint:  1001-acme/1001 " in endpoints  # leading space of aligned CLI output kept
    assert endpoints.splitlines()[0] == ""  # `Output: ` is an empty CLI line
    assert version.startswith("Asterisk 22.10.1 built by")
    # AMI answers an unknown command with Response: Error + the CLI complaint as Output.
    assert info.value.message.startswith("No such command 'no such command here'")
    assert info.value.response.status == "Error"
    assert_replayed(peer)


# -- EventList actions -----------------------------------------------------------------------
@pytest.mark.parametrize("transcript", ["pjsip-show-endpoints", "pjsip-show-endpoints-registered"])
def test_pjsip_listings_collect_events_until_complete(replay, transcript):
    peer = replay(transcript)
    with connect(peer, events=False) as ami:
        endpoints = ami.action("PJSIPShowEndpoints")
        detail = ami.action("PJSIPShowEndpoint", Endpoint="1001-acme")
        with pytest.raises(AmiActionError) as missing:
            ami.action("PJSIPShowEndpoint", Endpoint="no-such-endpoint")
        # With nothing registered Asterisk 22 answers Error "No Contacts found", not an
        # empty list (the fixture README's "0 items" is not what is on the wire).
        contacts = ami.action("PJSIPShowContacts", check=False)
        outbound = ami.action("PJSIPShowRegistrationsOutbound")
        aors = ami.action("PJSIPShowAors")
        auths = ami.action("PJSIPShowAuths")
    assert [e["ObjectName"] for e in endpoints.events] == ["1001-acme", "1001-globex", "1002-acme"]
    assert {e.name for e in endpoints.events} == {"EndpointList"}
    assert (endpoints.complete.name, endpoints.complete["ListItems"]) == ("EndpointListComplete", "3")
    assert {"EndpointDetail", "AuthDetail", "TransportDetail", "AorDetail"} <= {e.name for e in detail.events}
    assert detail.complete.name == "EndpointDetailComplete"
    # Asterisk ends this Message with a stray bare LF; it must not leak into the text.
    assert missing.value.message == "Unable to retrieve endpoint no-such-endpoint"
    assert outbound.events == [] and outbound.complete["ListItems"] == "0"
    for listing in (endpoints, detail, aors, auths):
        assert listing.complete["EventList"] == "Complete"
        assert int(listing.complete["ListItems"]) == len(listing.events)
    if transcript.endswith("registered"):
        assert [e.name for e in contacts.events] == ["ContactList", "ContactList"]
        assert contacts.complete["ListItems"] == "2"
    else:
        assert (contacts.ok, contacts.message, contacts.events) == (False, "No Contacts found", [])
    assert drain(ami) == []  # list items never leak into the event stream
    assert_replayed(peer)


# -- Reload --------------------------------------------------------------------------------------
def test_reload_all_one_module_and_a_missing_module(replay):
    peer = replay("reload")
    with connect(peer) as ami:
        assert ami.reload().message == "Module Reloaded"
        assert ami.reload("res_pjsip.so").ok
        assert ami.command("dialplan reload") == "Dialplan reloaded."
        assert ami.reload("app_queue.so").ok
        with pytest.raises(AmiActionError, match="No such module") as info:
            ami.reload("no_such_module.so")
    assert info.value.action == "Reload"
    reloads = {e["Module"]: e["Status"] for e in drain(ami) if e.name == "Reload"}
    assert reloads == {"All": "0", "res_pjsip.so": "0", "app_queue.so": "0", "no_such_module.so": "2"}
    assert_replayed(peer)


# -- queues -------------------------------------------------------------------------------------------
def test_queue_add_pause_remove(replay):
    peer = replay("queue")
    member = "PJSIP/1001-acme"
    with connect(peer) as ami:
        status = ami.action("QueueStatus", Queue="acme-sales")
        summary = ami.action("QueueSummary", Queue="acme-sales")
        ami.queue_add("acme-sales", member, penalty=1, member_name="Acme 1001", paused=False)
        ami.queue_pause("acme-sales", member, True, reason="lunch")
        paused = ami.action("QueueStatus", Queue="acme-sales", Member=member)
        ami.queue_pause("acme-sales", member, False)
        assert ami.queue_remove("acme-sales", member).message == "Removed interface from queue"
        with pytest.raises(AmiActionError, match="Not there"):
            ami.queue_remove("acme-sales", member)
        ami.action("QueueStatus", Queue="acme-sales")
    # QueueParams/QueueMember carry their ActionID as the *last* header: still collected.
    assert [e.name for e in status.events] == ["QueueParams", "QueueMember"]
    assert summary.events[0]["LoggedIn"] == "0"
    assert (paused.events[1]["Paused"], paused.events[1]["PausedReason"]) == ("1", "lunch")
    changes = [parse_event(e) for e in drain(ami) if e.name.startswith("QueueMember")]
    assert [(c["event"], c["paused"], c["paused_reason"]) for c in changes] == [
        ("QueueMemberAdded", False, ""),
        ("QueueMemberPause", True, "lunch"),
        ("QueueMemberPause", False, ""),
        ("QueueMemberRemoved", False, ""),
    ]
    assert_replayed(peer)


# -- Originate ----------------------------------------------------------------------------------------
def test_originate_waits_for_its_originate_response(replay):
    peer = replay("originate-local")
    with connect(peer) as ami:
        response = ami.originate(
            "Local/1001@acme-internal", application="Wait", data="2", caller_id='"Portal Test" <5550100>',
            timeout_ms=30000, variables={"PORTAL_TAG": "fixture-g"}, wait=True,
        )
    assert response.message == "Originate successfully queued"
    result = parse_event(response.events[0])
    assert (result["event"], result["response"], result["reason"]) == ("OriginateResponse", "Success", 4)
    assert result["channel"] == "Local/1001@acme-internal-00000000;1"
    events = [parse_event(e) for e in drain(ami)]
    assert [e["cause"] for e in events if e["event"] == "Hangup"] == [3, 3]
    assert len([e for e in events if e["event"] == "Cdr"]) == 2
    assert_replayed(peer)


def test_originate_failure_and_sync_originate(replay):
    peer = replay("originate-fail-and-sync")
    with connect(peer) as ami:
        with pytest.raises(AmiActionError, match="reason 0") as info:
            ami.originate("PJSIP/1001-globex", context="globex-internal", exten="1001", priority=1,
                          caller_id='"Portal Test" <5550100>', timeout_ms=5000, wait=True)
        sync = ami.originate("Local/8000@acme-internal", application="Wait", data="1", timeout_ms=10000,
                             async_=False)
    assert info.value.response.events[0]["Uniqueid"] == "<unknown>"
    assert sync.message == "Originate successfully queued" and sync.events == []
    assert_replayed(peer)


@pytest.mark.parametrize("chunking", ["merged", "random:1-7"])
def test_event_storm_correlates_originate_responses_by_action_id(replay, chunking):
    transcript = load_transcript("event-storm")
    recorded = {}  # storm-NN -> Uniqueid, in the order the OriginateResponses arrived
    for block in transcript.data("server").decode().split("\r\n\r\n"):
        if block.startswith("Event: OriginateResponse"):
            fields = dict(line.split(": ", 1) for line in block.split("\r\n"))
            recorded[fields["ActionID"]] = fields["Uniqueid"]
    assert list(recorded) != sorted(recorded)  # the recording really is out of order

    peer = replay("event-storm", chunking=chunking)
    with connect(peer) as ami:
        # Our own ActionIDs, so a right answer proves routing by ID, not by position.
        futures = {
            f"storm-{i:02d}": ami.send_action(
                "Originate", expect_event="OriginateResponse", ActionID=f"mine-{i}",
                Channel="Local/8000@acme-internal", Application="Wait", Data="1", Async=True,
                CallerID=f'"Storm {i:02d}" <55502{i:02d}>',
            )
            for i in range(20)
        }
        results = {name: f.result(5) for name, f in futures.items()}
    for name, response in results.items():
        (event,) = response.events
        assert event.action_id == futures[name].action_id
        assert event["Uniqueid"] == recorded[name]
    names = [e.name for e in drain(ami)]
    assert (names.count("Newchannel"), names.count("Hangup"), names.count("Cdr")) == (40, 40, 40)
    assert "OriginateResponse" not in names
    assert_replayed(peer)


# -- partial reads -----------------------------------------------------------------------------
def drive(peer, events: bool) -> list:
    """Run a recording's actions; return everything the client parsed (ActionIDs
    left out: they are generated per connection)."""

    def pairs(message) -> list:
        return [(k, v) for k, v in message.headers if k != "ActionID"]

    out = []
    with connect(peer, events=events) as ami:
        for frame in peer.transcript.frames("client")[1:-1]:
            (_, name), *rest = wire_headers(frame)
            response = ami.action(name, check=False, **{k: v for k, v in rest if k != "ActionID"})
            complete = response.complete and pairs(response.complete)
            out.append((pairs(response), [pairs(e) for e in response.events], complete))
    out.append([pairs(e) for e in drain(ami)])
    assert_replayed(peer)
    return out


@pytest.mark.parametrize(
    ("transcript", "events"),
    [("command", False), ("pjsip-show-endpoints-registered", False), ("queue", True), ("reload", True)],
)
def test_rechunked_streams_parse_like_the_recorded_reads(replay, transcript, events):
    baseline = drive(replay(transcript), events)
    assert drive(replay(transcript, chunking="merged"), events) == baseline
    assert drive(replay(transcript, chunking="random:1-7", seed=7, pace=0.00005), events) == baseline


def test_single_byte_reads(replay):
    baseline = drive(replay("queue"), True)
    assert drive(replay("queue", chunking="bytes", pace=0.00002), True) == baseline


# -- secrets and misuse ----------------------------------------------------------------------------
def test_secrets_never_reach_logs_or_errors(replay, scripted, caplog):
    caplog.set_level(logging.DEBUG, logger="apps.pbx.ami")
    with connect(scripted(AmiScript())) as ami:
        ami.ping()
    bad = connect(replay("login-bad"), secret="wrong-secret")
    with pytest.raises(AmiAuthError) as info:
        bad.login()
    assert "Secret: ********" in caplog.text  # the Login frames were logged, masked
    assert "Authentication failed" in caplog.text  # and so were the answers
    for text in (caplog.text, str(info.value), repr(ami), repr(bad)):
        assert SECRET not in text and "wrong-secret" not in text


def test_header_values_cannot_inject_actions(scripted):
    server = scripted(AmiScript())
    with connect(server) as ami:
        with pytest.raises(ValueError):
            ami.action("Command", Command="core show channels\r\n\r\nAction: Originate")
        ami.ping()  # the session is unaffected
    assert [f.split(b"\r\n")[0] for f in server.actions[0]] == [b"Action: Login", b"Action: Ping", b"Action: Logoff"]
