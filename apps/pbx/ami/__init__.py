"""Our one AMI (Asterisk Manager Interface) client. Target: Asterisk 22, AMI 11.

Decision: a small protocol-correct client of our own, not a wrapper around
`asterisk-ami` 0.1.7 (which the stack named). Replaying the recorded Asterisk 22
sessions against it (tests/pbx/test_ami_listener.py keeps the first one as a
regression demo) showed defects a wrapper cannot fix without replacing most of it:

- its socket timeout *is* its response timeout: after `timeout` idle seconds
  (3 s default) `recv()` raises, the reader thread exits, and every later
  response is None. A longer timeout makes each unanswered action block that
  long, and its `AutoReconnect` pings through the same dead reader;
- no EventList support: PJSIPShowEndpoints, QueueStatus etc. resolve at the
  `EventList: start` response; the items arrive later as unrelated events;
- `Response.read` strips every value, so `Command` output loses the leading
  spaces of column-aligned CLI output (`pjsip show endpoints`);
- `Event.read` keeps only the last of repeated keys (`Variable:`);
- smaller ones: `send()` instead of `sendall()`, a futures dict shared across
  threads without a lock, an unimported `traceback` in `FutureResponse`, and a
  refused login is not an error (the caller must inspect the response).

What we rely on instead is written down in shared/fixtures/asterisk-22/README.md
and checked by tests/pbx against byte-exact recordings, re-chunked down to
single bytes. The pieces, one file each:

- message.py    AmiMessage/AmiResponse, parse_message, encode_action, redact
- framing.py    AmiFrameParser: banner + CRLF CRLF framing over partial reads
- future.py     AmiFuture: one action's answer, list items, follow-up event
- connection.py AmiConnection: socket, reader thread, keepalive, correlation
- actions.py    the portal's actions (command, reload, queue_*, originate, ...)
- listener.py   AmiListener: long-lived event stream with reconnects
- events.py     parse_event: events -> typed dicts for call records
- errors.py     AmiError and subclasses

Secrets: `Secret:`/`Key:` values are masked in the wire debug log
(`apps.pbx.ami.wire`), and no repr or exception message contains them.
This package imports nothing from Django.
"""

from .actions import ORIGINATE_REASONS
from .connection import AmiConnection
from .errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    AmiError,
    AmiTimeoutError,
)
from .events import parse_event, split_callerid
from .framing import AmiFrameParser
from .future import AmiFuture
from .listener import AmiListener
from .message import AmiMessage, AmiResponse, encode_action, parse_message, redact

__all__ = [
    "ORIGINATE_REASONS",
    "AmiActionError",
    "AmiAuthError",
    "AmiConnection",
    "AmiConnectionError",
    "AmiError",
    "AmiFrameParser",
    "AmiFuture",
    "AmiListener",
    "AmiMessage",
    "AmiResponse",
    "AmiTimeoutError",
    "encode_action",
    "parse_event",
    "parse_message",
    "redact",
    "split_callerid",
]
