"""Two calls for the demo, made the way real ones are: AMI events (as the listener parses them)
through the tracker and the store, so the demo's records, legs and events are the real thing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

from apps.calls import store
from apps.calls.mapping import TenantMap
from apps.calls.tracker import CallTracker


def _channel(uid, linkedid, channel, num, name, context, exten, state=4):
    return {"channel": channel, "channel_state": state, "caller_id_num": num, "caller_id_name": name,
            "context": context, "exten": exten, "uniqueid": uid, "linkedid": linkedid}


def _call(t: str, linkedid: str, caller: tuple, callee: tuple, exten: str, context: str, cause: int = 16,
          answered: bool = True) -> list[tuple[float, dict]]:
    a = _channel(linkedid, linkedid, caller[0], caller[1], caller[2], context, exten)
    b_uid = linkedid + "1"
    b = _channel(b_uid, linkedid, callee[0], callee[1], callee[2], context, exten, state=0)
    dest = {f"dest_{k}": v for k, v in b.items()}
    events = [(0.0, {"event": "Newchannel", **a}), (0.1, {"event": "Newchannel", **b}),
              (0.2, {"event": "DialBegin", **a, **dest, "dial_string": callee[0].split("/", 1)[1].rsplit("-", 1)[0]})]
    if answered:
        events += [(4.0, {"event": "DialEnd", **a, **{**dest, "dest_channel_state": 6}, "dial_status": "ANSWER"}),
                   (4.1, {"event": "Newstate", **a, "channel_state": 6})]
    else:
        events += [(20.0, {"event": "DialEnd", **a, **dest, "dial_status": "NOANSWER"})]
    end = 95.0 if answered else 21.0
    events += [(end, {"event": "Hangup", **b, "cause": cause, "cause_txt": "Normal Clearing"}),
               (end + 0.1, {"event": "Hangup", **a, "cause": cause, "cause_txt": "Normal Clearing"})]
    return events


def seed_calls(server, tenant, *, trunk: str, caller_phone: str) -> int:
    """Feed the demo calls; returns how many records exist afterwards for this server."""
    base = datetime.now(dt_timezone.utc) - timedelta(hours=1)
    t = tenant.slug
    calls = [
        _call(t, "1700000000.1", (f"PJSIP/1001-{t}-00000001", "1001", "Alice Adams"),
              (f"PJSIP/1002-{t}-00000002", "1002", "Bob Brown"), "1002", f"{t}-internal"),
        _call(t, "1700000100.3", (f"PJSIP/{trunk}-00000003", caller_phone, ""),
              (f"PJSIP/1001-{t}-00000004", "1001", "Alice Adams"), "1001", f"{t}-extensions"),
        _call(t, "1700000200.5", (f"PJSIP/1003-{t}-00000005", "1003", "Carol Chen"),
              (f"PJSIP/1004-{t}-00000006", "1004", "Dan Diaz"), "1004", f"{t}-internal", cause=19,
              answered=False),
    ]
    tracker = CallTracker(server.pk, TenantMap({t: tenant}))
    for index, events in enumerate(calls):
        start = base + timedelta(minutes=10 * index)
        for offset, event in events:
            tracker.feed(event, start + timedelta(seconds=offset))
    states, moments, members = tracker.take_changes()
    return store.persist(server=server, tenants={t: tenant}, calls=states, moments=moments, members=members).calls
