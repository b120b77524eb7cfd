"""Framing, parsing and encoding of AMI messages, without sockets.

The socket tests re-chunk randomly; these cut the recorded streams at *every*
byte position, so no split (inside CRLF, inside CRLF CRLF, inside the banner)
is left to chance.
"""

from __future__ import annotations

import random

import pytest

from apps.pbx.ami import AmiConnectionError, AmiFrameParser, encode_action, parse_message, redact
from apps.pbx.ami.message import AmiResponse

from .peers import load_transcript
from .peers.ami_wire import headers as wire_headers

ALL_AMI = [
    "login-ok", "login-bad", "command", "pjsip-show-endpoints", "pjsip-show-endpoints-registered",
    "reload", "queue", "originate-local", "originate-fail-and-sync", "sip-call", "queue-call",
    "agi-crm-lookup.ami", "event-storm",
]


def parse_all(chunks) -> tuple[str | None, list]:
    parser = AmiFrameParser()
    messages = []
    for chunk in chunks:
        messages += parser.feed(chunk)
    assert parser.pending_bytes == 0
    return parser.banner, [m.headers for m in messages]


@pytest.mark.parametrize("name", ["login-ok", "command", "queue", "reload"])
def test_every_two_way_split_gives_the_same_messages(name):
    stream = load_transcript(name).data("server")
    expected = parse_all([stream])
    for cut in range(1, len(stream)):
        assert parse_all([stream[:cut], stream[cut:]]) == expected, cut


@pytest.mark.parametrize("name", ALL_AMI)
def test_recorded_reads_single_bytes_and_random_pieces_agree(name):
    transcript = load_transcript(name)
    stream = transcript.data("server")
    expected = parse_all(transcript.frames("server"))
    rng = random.Random(name)
    pieces, i = [], 0
    while i < len(stream):
        n = rng.randint(1, 7)
        pieces.append(stream[i : i + n])
        i += n
    assert parse_all(pieces) == expected
    if len(stream) < 50_000:
        assert parse_all([stream[i : i + 1] for i in range(len(stream))]) == expected
    # Independent count: every message ends with CRLF CRLF on the wire.
    assert expected[0] == "Asterisk Call Manager/11.0.0"
    assert len(expected[1]) == stream.count(b"\r\n\r\n")


def test_banner_must_be_asterisk():
    with pytest.raises(AmiConnectionError, match="not an Asterisk manager"):
        AmiFrameParser().feed(b"SSH-2.0-OpenSSH_9.2\r\n")


def test_utf8_split_between_reads_is_decoded_once_whole():
    data = "Asterisk Call Manager/11.0.0\r\nEvent: Newchannel\r\nCallerIDName: Zoë Ñandú\r\n\r\n".encode()
    cut = data.index("ë".encode()) + 1  # between the two bytes of ë
    _, messages = parse_all([data[:cut], data[cut:]])
    assert dict(messages[0])["CallerIDName"] == "Zoë Ñandú"


def test_values_keep_spaces_and_repeated_keys_stay_in_order():
    msg = parse_message(
        "Response: Success\r\nMessage: Command output follows\r\nOutput: \r\n"
        "Output:  Endpoint:  1001-acme   \r\nOutput: Objects found: 3\r\nSystemName: \r\n"
    )
    assert isinstance(msg, AmiResponse)
    assert msg.get_all("Output") == ["", " Endpoint:  1001-acme   ", "Objects found: 3"]
    assert msg.output == "\n Endpoint:  1001-acme   \nObjects found: 3"
    assert msg["SystemName"] == "" and "SystemName" in msg
    assert msg.to_dict()["Output"] == ["", " Endpoint:  1001-acme   ", "Objects found: 3"]
    assert msg.get("output") == ""  # look-ups ignore case


def test_stray_bare_lf_inside_a_value_is_tolerated():
    # Byte-exact from pjsip-show-endpoints.jsonl (Asterisk's own stray "\n").
    msg = parse_message(b"Response: Error\r\nActionID: ep-2\r\nMessage: Unable to retrieve endpoint no-such-endpoint\n")
    assert msg.message == "Unable to retrieve endpoint no-such-endpoint"
    assert not msg.ok


def test_variable_headers_repeat():
    msg = parse_message("Event: VarSet\r\nVariable: A=1\r\nVariable: B=2\r\n")
    assert msg.get_all("Variable") == ["A=1", "B=2"]
    assert msg.kind == "event" and msg.name == "VarSet"


@pytest.mark.parametrize("name", ALL_AMI)
def test_encode_action_reproduces_every_recorded_client_frame(name):
    for frame in load_transcript(name).frames("client"):
        (_, action), *rest = wire_headers(frame)
        assert encode_action(action, dict(rest)) == frame


def test_encode_action_value_forms():
    data = encode_action("Originate", {
        "Channel": "Local/1@x", "Priority": 1, "Async": True, "Data": None,
        "Variable": {"A": "1", "B": 2}, "Member": ["m1", "m2"],
    })
    assert data == (b"Action: Originate\r\nChannel: Local/1@x\r\nPriority: 1\r\nAsync: true\r\n"
                    b"Variable: A=1\r\nVariable: B=2\r\nMember: m1\r\nMember: m2\r\n\r\n")


@pytest.mark.parametrize("bad", [
    {"Command": "core show channels\r\n\r\nAction: Originate"},
    {"Command": "x\ny"},
    {"Variable": {"A\r\nAction": "1"}},
    {"Bad: Key": "1"},
])
def test_encode_action_refuses_line_breaks(bad):
    with pytest.raises(ValueError) as info:
        encode_action("Command", bad)
    assert "Originate" not in str(info.value)


def test_redact_masks_secret_and_key_lines_only():
    text = "Action: Login\r\nUsername: portal\r\nSecret: hunter2\r\nKey: abc\r\n\r\n"
    masked = redact(text)
    assert "hunter2" not in masked and "abc" not in masked
    assert "Username: portal\r\n" in masked and "Secret: ********\r\n" in masked
    assert str(parse_message(text)).count("********") == 2  # str() of a message is masked too
