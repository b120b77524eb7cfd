"""Exceptions raised by the AMI client.

Messages never contain a secret: callers log these freely (Celery retries, the
listener's reconnect loop), so only host, port, user name and Asterisk's own
Message text go into them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .message import AmiResponse


class AmiError(Exception):
    """Base class for everything this package raises."""


class AmiConnectionError(AmiError):
    """The TCP session could not be opened, was lost, or is closed."""


class AmiTimeoutError(AmiConnectionError):
    """No answer within the configured timeout.

    A subclass of AmiConnectionError because a server that stops answering is, for
    every caller we have, the same as a server that went away: drop and reconnect.
    """


class AmiAuthError(AmiError):
    """Login was refused (`Response: Error` / `Message: Authentication failed`)."""


class AmiActionError(AmiError):
    """Asterisk answered an action with `Response: Error` (or an Originate failed).

    `message` is Asterisk's `Message:` text (for `Command`, the CLI output, because
    its Message is always the useless "Command output follows"); `response` is the
    full AmiResponse for callers that need more (e.g. `response.output`).
    """

    def __init__(self, action: str, message: str, response: AmiResponse | None = None):
        self.action = action
        self.message = message
        self.response = response
        super().__init__(f"{action}: {message}")
