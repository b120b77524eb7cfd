"""The pending side of one action: filled by the reader thread, awaited by callers.

An action is finished by one of three things, all keyed by its ActionID:
- a plain response (most actions; also any `Response: Error`);
- the `EventList: Complete` event after `EventList: start` (PJSIPShowEndpoints,
  QueueStatus, ...); items may be interleaved with unrelated events;
- a named follow-up event the caller asked to wait for (Async Originate's
  `OriginateResponse`, which can arrive long after the response and in any order
  relative to other originates).
"""

from __future__ import annotations

import threading

from .errors import AmiConnectionError, AmiTimeoutError
from .message import AmiMessage, AmiResponse

_LIST_END = ("complete", "cancelled")


class AmiFuture:
    def __init__(self, name: str, action_id: str | None, expect_event: str | None = None):
        self.name = name
        self.action_id = action_id
        self.expect_event = expect_event.lower() if expect_event else None
        self._cond = threading.Condition()
        self._response: AmiResponse | None = None
        self._early_events: list[AmiMessage] = []
        self._error: BaseException | None = None
        self._done = False

    # -- fed by the reader thread (return True when the action is finished) ---
    def on_response(self, response: AmiResponse) -> bool:
        with self._cond:
            self._response = response
            for event in self._early_events:  # events that beat their response
                self._take_event(event)
            self._early_events.clear()
            if not self._done:
                # Without an ActionID nothing after the response can be matched to us.
                self._done = self.action_id is None or not response.ok or not (
                    response.is_event_list_start or self.expect_event
                )
            self._cond.notify_all()
            return self._done

    def on_event(self, event: AmiMessage) -> bool:
        with self._cond:
            if self._response is None:
                self._early_events.append(event)
            else:
                self._take_event(event)
            self._cond.notify_all()
            return self._done

    def _take_event(self, event: AmiMessage) -> None:
        assert self._response is not None
        name = (event.name or "").lower()
        if self.expect_event and name == self.expect_event:
            self._response.events.append(event)
            self._done = True
        elif (event.get("EventList") or "").lower() in _LIST_END:
            self._response.complete = event
            self._done = True
        else:
            self._response.events.append(event)

    def fail(self, error: BaseException) -> None:
        with self._cond:
            if not self._done:
                self._error = error
                self._done = True
            self._cond.notify_all()

    # -- awaited by callers ----------------------------------------------------
    def done(self) -> bool:
        return self._done

    def response(self, timeout: float | None) -> AmiResponse:
        """The immediate `Response:` (do not wait for list items or follow-ups)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._response is not None or self._done, timeout):
                raise AmiTimeoutError(f"no response to {self.name} within {timeout}s")
            if self._response is None:
                raise self._error or AmiConnectionError("connection closed")
            return self._response

    def result(self, timeout: float | None) -> AmiResponse:
        """The response with its collected events, once the action is finished."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._done, timeout):
                raise AmiTimeoutError(f"{self.name} did not finish within {timeout}s")
            if self._error is not None:
                raise self._error
            assert self._response is not None
            return self._response
