"""The actions the portal sends, as methods on AmiConnection.

Kept apart from the session mechanics in connection.py: this file is where new
actions go, and each one is a thin, typed spelling of an AMI action whose exact
headers (and header order) match what the Asterisk 22 recordings show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AmiActionError

if TYPE_CHECKING:  # pragma: no cover
    from .message import AmiResponse

# OriginateResponse `Reason` codes (Asterisk's AST_CONTROL_* values).
ORIGINATE_REASONS = {
    "0": "failed",
    "1": "hung up",
    "3": "ring timeout",
    "4": "answered",
    "5": "busy",
    "8": "congestion",
}


class AmiActions:
    """Mixin: needs `action(name, *, timeout, check, expect_event, **headers)` and `timeout`."""

    timeout: float

    if TYPE_CHECKING:  # pragma: no cover

        def action(self, name: str, *, timeout: float | None = None, check: bool = True,
                   expect_event: str | None = None, **headers: Any) -> AmiResponse: ...

    def ping(self, *, timeout: float | None = None) -> AmiResponse:
        return self.action("Ping", timeout=timeout)

    def command(self, command: str, *, timeout: float | None = None, check: bool = True) -> str:
        """Run a CLI command; returns its output (AMI 11: one `Output:` per line)."""
        response = self.action("Command", timeout=timeout, check=False, Command=command)
        if check and not response.ok:
            raise AmiActionError("Command", response.output or response.message, response)
        return response.output

    def reload(self, module: str | None = None, *, timeout: float | None = None) -> AmiResponse:
        """Reload everything, or one module such as "res_pjsip.so"."""
        return self.action("Reload", timeout=timeout, Module=module)

    def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        penalty: int | None = None,
        member_name: str | None = None,
        paused: bool | None = None,
        state_interface: str | None = None,
        reason: str | None = None,
        timeout: float | None = None,
    ) -> AmiResponse:
        return self.action(
            "QueueAdd", timeout=timeout, Queue=queue, Interface=interface, Penalty=penalty,
            MemberName=member_name, Paused=paused, StateInterface=state_interface, Reason=reason,
        )

    def queue_remove(self, queue: str, interface: str, *, timeout: float | None = None) -> AmiResponse:
        return self.action("QueueRemove", timeout=timeout, Queue=queue, Interface=interface)

    def queue_pause(
        self,
        queue: str | None,
        interface: str,
        paused: bool = True,
        *,
        reason: str | None = None,
        timeout: float | None = None,
    ) -> AmiResponse:
        """Pause (or unpause) a member; queue=None pauses it in every queue."""
        return self.action("QueuePause", timeout=timeout, Queue=queue, Interface=interface,
                           Paused=paused, Reason=reason)

    def hangup(self, channel: str, *, cause: int | None = None, timeout: float | None = None) -> AmiResponse:
        return self.action("Hangup", timeout=timeout, Channel=channel, Cause=cause)

    def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        application: str | None = None,
        data: str | None = None,
        caller_id: str | None = None,
        timeout_ms: int | None = None,
        account: str | None = None,
        variables: dict[str, Any] | None = None,
        async_: bool = True,
        wait: bool = False,
        action_id: str | None = None,
        timeout: float | None = None,
    ) -> AmiResponse:
        """Originate a call to `channel`, then run `application` or go to context/exten.

        Asterisk answers "Originate successfully queued" at once. With `wait=True`
        (Async only) this also waits for the OriginateResponse (in `events[0]`) and
        raises AmiActionError if it is a Failure. Without `wait` the
        OriginateResponse goes to the event stream. Needs a session with events on.
        """
        if not application and not (context and exten):
            raise ValueError("originate needs application=... or context= and exten=")
        if wait and not async_:
            raise ValueError("wait=True needs async_=True (no OriginateResponse is sent otherwise)")
        # Header order as Asterisk's docs and our recordings have it.
        headers = {
            "Channel": channel, "Context": context, "Exten": exten, "Priority": priority,
            "Application": application, "Data": data, "Async": True if async_ else None,
            "CallerID": caller_id, "Timeout": timeout_ms, "Account": account, "Variable": variables,
        }
        if action_id is not None:
            headers["ActionID"] = action_id
        if wait and timeout is None:  # the call may ring for timeout_ms first
            timeout = self.timeout + (timeout_ms or 30_000) / 1000
        response = self.action("Originate", timeout=timeout,
                               expect_event="OriginateResponse" if wait else None, **headers)
        result = response.events[0] if response.events else None
        if result is not None and (result.get("Response") or "").lower() != "success":
            reason = result.get("Reason", "")
            raise AmiActionError(
                "Originate", f"{channel} failed: reason {reason} ({ORIGINATE_REASONS.get(reason, 'unknown')})",
                response,
            )
        return response
