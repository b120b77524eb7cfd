"""parse_event: recorded Asterisk 22 events -> typed dicts for call records."""

from __future__ import annotations

from datetime import datetime

import pytest

from apps.pbx.ami import AmiFrameParser, parse_event, split_callerid
from apps.pbx.ami.events import snake_key

from .peers import load_transcript


def recorded_events(name: str) -> list[dict]:
    parser = AmiFrameParser()
    messages = parser.feed(load_transcript(name).data("server"))
    return [parse_event(m) for m in messages if m.kind == "event"]


def test_sip_call_cdr_and_hangups():
    events = recorded_events("sip-call")
    (cdr,) = [e for e in events if e["event"] == "Cdr"]
    assert cdr == {
        "event": "Cdr", "privilege": ["cdr", "all"], "account_code": "", "source": "1001",
        "destination": "1002", "destination_context": "acme-internal", "caller_id": '"Acme 1001" <1001>',
        "channel": "PJSIP/1001-acme-00000000", "destination_channel": "PJSIP/1002-acme-00000001",
        "last_application": "Dial", "last_data": "PJSIP/1002-acme,20",
        "start_time": datetime(2026, 11, 27, 3, 42, 12), "answer_time": datetime(2026, 11, 27, 3, 42, 12),
        "end_time": datetime(2026, 11, 27, 3, 42, 14), "duration": 2, "billable_seconds": 2,
        "disposition": "ANSWERED", "ama_flags": "DOCUMENTATION", "uniqueid": "1795750932.48", "user_field": "",
    }
    hangups = [e for e in events if e["event"] == "Hangup"]
    assert [(h["channel"], h["cause"], h["cause_txt"]) for h in hangups] == [
        ("PJSIP/1002-acme-00000001", 16, "Normal Clearing"),
        ("PJSIP/1001-acme-00000000", 16, "Normal Clearing"),
    ]
    # The Cdr's UniqueID and the channel events' Uniqueid land on one key.
    assert cdr["uniqueid"] in {h["uniqueid"] for h in hangups}
    assert hangups[0]["linkedid"] == cdr["uniqueid"]
    assert all(isinstance(h["channel_state"], int) for h in hangups)


def test_every_recorded_event_parses():
    for name in ("sip-call", "queue-call", "originate-local", "agi-crm-lookup.ami", "event-storm"):
        for event in recorded_events(name):
            assert event["event"] and isinstance(event.get("privilege", []), list)


def test_unknown_values_and_failed_originate():
    events = recorded_events("originate-fail-and-sync")
    (failed,) = [e for e in events if e["event"] == "OriginateResponse"]
    assert (failed["response"], failed["reason"], failed["uniqueid"]) == ("Failure", 0, None)
    newchannel = next(e for e in events if e["event"] == "Newchannel")
    assert newchannel["caller_id_num"] is None  # `<unknown>`


def test_agi_exec_events_carry_command_and_result():
    events = [e for e in recorded_events("agi-crm-lookup.ami") if e["event"] == "AGIExecEnd"]
    assert events[0]["result_code"] == 200 and events[0]["result"] == "Success"
    assert any(e["command"].startswith("GET VARIABLE") for e in events)


def test_queue_call_agent_events():
    events = recorded_events("queue-call")
    names = [e["event"] for e in events]
    assert {"QueueCallerJoin", "AgentCalled", "AgentConnect", "AgentComplete"} <= set(names)
    status = next(e for e in events if e["event"] == "QueueMemberStatus")
    assert isinstance(status["paused"], bool) and isinstance(status["penalty"], int)


def test_repeated_keys_and_variables():
    event = parse_event("Event: Test\r\nVariable: A=1\r\nVariable: B=x=y\r\nOutput: a\r\nOutput: b\r\n")
    assert event["variables"] == {"A": "1", "B": "x=y"}
    assert event["output"] == ["a", "b"]
    assert parse_event({"Event": "FullyBooted", "Status": "Fully Booted"})["status"] == "Fully Booted"


@pytest.mark.parametrize(("key", "snake"), [
    ("CallerIDNum", "caller_id_num"), ("Cause-txt", "cause_txt"), ("AMAFlags", "ama_flags"),
    ("UniqueID", "uniqueid"), ("Uniqueid", "uniqueid"), ("EventTV", "event_tv"), ("ActionID", "action_id"),
    ("ConnectedLineName", "connected_line_name"), ("Wrapuptime", "wrapuptime"),
])
def test_snake_key(key, snake):
    assert snake_key(key) == snake


@pytest.mark.parametrize(("callerid", "parts"), [
    ('"Acme 1001" <1001>', ("Acme 1001", "1001")),
    ('"Unknown Caller" <+15559876543>', ("Unknown Caller", "+15559876543")),
    ("Bob <200>", ("Bob", "200")),
    ("5550100", ("", "5550100")),
    ("", ("", "")),
])
def test_split_callerid(callerid, parts):
    assert split_callerid(callerid) == parts
