"""The real-time event stream, end to end: the stream process (uvicorn thirdlane.asgi) on a
free port, committed events written through ``emit_event``, a streaming HTTP client."""
from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, transaction

from apps.events.services import emit_event
from tests.helpers.stream_server import SseClient, StreamServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stream_server(committed_world):
    server = StreamServer(connection.settings_dict["NAME"], extra_env={"EVENT_STREAM_HEARTBEAT": "1"}).start()
    yield server
    server.stop()


def emit(tenant, type: str = "crm.contact.created", **data):
    with transaction.atomic():
        return emit_event(type=type, data={"id": data.pop("id", 1), **data}, tenant=tenant)


def open_stream(server, path: str, key: str, **kw) -> SseClient:
    client = SseClient(server.url, path, key=key, **kw)
    assert client.status == 200, client.json()
    return client


def ids(events) -> list[int]:
    return [int(e["id"]) for e in events]


def test_a_tenant_key_streams_its_tenants_events_with_the_webhook_payload(stream_server, committed_world, settings,
                                                                          system_actor):
    from apps.webhooks.delivery import request_for
    from apps.webhooks.models import Delivery
    from apps.webhooks.relay import relay_pending
    from apps.webhooks.services import subscription_create

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    world = committed_world
    hook = subscription_create(actor=system_actor, tenant=world.acme, url="http://127.0.0.1:9/hook",
                               event_types=["crm.*"])
    with open_stream(stream_server, "/api/events/acme/stream", world.keys["acme"]) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["X-Request-ID"]
        mine = emit(world.acme, name="Ann \u00e9 \n line", id=7)
        emit(world.globex, name="not yours")
        got = stream.next_event(timeout=5)
        assert got is not None and got["id"] == str(mine.pk) and got["event"] == "crm.contact.created"
        assert stream.retry == 3000
        # Exactly the bytes a webhook for this event posts.
        relay_pending()
        delivery = Delivery.objects.get(subscription=hook, event_id=mine.pk)
        body, _ = request_for(delivery, hook)
        assert got["data"].encode() == body
        payload = json.loads(got["data"])
        assert payload["tenant"] == "acme" and payload["event_id"] == str(mine.event_id)
        assert payload["data"] == {"id": 7, "name": "Ann \u00e9 \n line"}
        # Nothing of globex; heartbeats (every second in this test) keep the line open.
        assert stream.next_event(timeout=2.5) is None
        assert stream.comments.count("") >= 1


def test_another_tenants_key_gets_404_tenant_not_found_and_a_bad_key_401(stream_server, committed_world):
    for key in ("globex", "initech", "other_reseller"):
        client = SseClient(stream_server.url, "/api/events/acme/stream", key=committed_world.keys[key])
        assert client.status == 404, key
        assert (client.headers["Content-Type"] or "").startswith("application/problem+json"), client.headers.items()
        assert client.json()["code"] == "tenant_not_found"
    client = SseClient(stream_server.url, "/api/events/acme/stream", key="tl_nope_nope")
    assert client.status == 401 and client.json()["code"] in ("invalid_api_key",)
    client = SseClient(stream_server.url, "/api/events/acme/stream")
    assert client.status == 401 and client.json()["code"] == "not_authenticated"
    client = SseClient(stream_server.url, "/api/events/nosuch/stream", key=committed_world.keys["system"])
    assert client.status == 404 and client.json()["code"] == "tenant_not_found"
    # A tenant key has no platform stream.
    client = SseClient(stream_server.url, "/api/events/_all/stream", key=committed_world.keys["acme"])
    assert client.status == 403 and client.json()["code"] == "permission_denied"


def test_type_selectors_filter_like_webhooks(stream_server, committed_world):
    world = committed_world
    path = "/api/events/acme/stream?types=config.extension.*,crm.contact.deleted"
    with open_stream(stream_server, path, world.keys["acme"]) as stream:
        emit(world.acme, "crm.contact.created")
        a = emit(world.acme, "config.extension.created")
        emit(world.acme, "config.did.created")
        b = emit(world.acme, "crm.contact.deleted")
        got = stream.events(2, timeout=5)
        assert ids(got) == [a.pk, b.pk]
        assert [e["event"] for e in got] == ["config.extension.created", "crm.contact.deleted"]
        assert stream.next_event(timeout=1) is None
    client = SseClient(stream_server.url, "/api/events/acme/stream?types=crm.nope.*", key=world.keys["acme"])
    assert client.status == 400 and client.json()["code"] == "unknown_event_type"
    client = SseClient(stream_server.url, "/api/events/acme/stream?colour=red", key=world.keys["acme"])
    assert client.status == 400 and client.json()["code"] == "unknown_filter"


def test_resume_with_last_event_id_loses_nothing_and_repeats_nothing(stream_server, committed_world):
    world = committed_world
    key = world.keys["acme"]
    stream = open_stream(stream_server, "/api/events/acme/stream", key)
    first = [emit(world.acme, id=i) for i in range(5)]
    got = stream.events(3, timeout=5)
    assert ids(got) == [e.pk for e in first[:3]]
    last_seen = got[-1]["id"]
    stream.close()  # mid-stream: two events were on their way
    later = [emit(world.acme, id=i) for i in range(5, 9)]
    with open_stream(stream_server, "/api/events/acme/stream", key, headers={"Last-Event-ID": last_seen}) as again:
        replayed = again.events(6, timeout=5)
        assert ids(replayed) == [e.pk for e in first[3:] + later]
        live = emit(world.acme, id=99)
        assert ids(again.events(1, timeout=5)) == [live.pk]
        assert again.next_event(timeout=1) is None  # and nothing twice
    # The query parameter does the same (for clients that cannot set headers).
    path = f"/api/events/acme/stream?last_event_id={first[0].pk}"
    with open_stream(stream_server, path, key) as again:
        assert ids(again.events(9, timeout=5)) == [e.pk for e in first[1:] + later + [live]]
    bad = SseClient(stream_server.url, "/api/events/acme/stream", key=key, headers={"Last-Event-ID": "x1"})
    assert bad.status == 400 and bad.json()["code"] == "validation_error"


def test_replay_and_live_meet_without_gap_while_events_keep_coming(stream_server, committed_world):
    world = committed_world
    key = world.keys["acme"]
    start = emit(world.acme, id=0)
    stop = threading.Event()
    written: list[int] = []

    def writer():
        try:
            while not stop.is_set():
                written.append(emit(world.acme, id=len(written)).pk)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        stream = open_stream(stream_server, "/api/events/acme/stream", key, headers={"Last-Event-ID": str(start.pk)})
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    with stream:
        got = stream.events(len(written), timeout=15)
    assert ids(got) == written


def test_events_committed_out_of_id_order_are_not_skipped(stream_server, committed_world):
    world = committed_world
    inserted, release = threading.Event(), threading.Event()
    slow: list = []

    def slow_transaction():
        try:
            with transaction.atomic():
                slow.append(emit_event(type="crm.contact.created", data={"id": "slow"}, tenant=world.acme))
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    with open_stream(stream_server, "/api/events/acme/stream", world.keys["acme"]) as stream:
        thread = threading.Thread(target=slow_transaction)
        thread.start()
        assert inserted.wait(10)
        fast = emit(world.acme, id="fast")  # a higher id, committed first
        assert fast.pk > slow[0].pk
        # The stream does not pass the open transaction's id...
        assert stream.next_event(timeout=1.5) is None
        release.set()
        thread.join()
        # ...and delivers both, in id order, once it committed.
        assert ids(stream.events(2, timeout=5)) == [slow[0].pk, fast.pk]


def test_a_rolled_back_event_leaves_a_gap_that_does_not_stall_the_stream(stream_server, committed_world):
    world = committed_world
    with open_stream(stream_server, "/api/events/acme/stream", world.keys["acme"]) as stream:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                emit_event(type="crm.contact.created", data={"id": "gone"}, tenant=world.acme)
                raise RuntimeError("rolled back")
        after = emit(world.acme, id="after")
        started = time.monotonic()
        assert ids(stream.events(1, timeout=5)) == [after.pk]
        assert time.monotonic() - started < 2


def test_platform_streams_for_system_and_reseller_keys(stream_server, committed_world):
    world = committed_world
    with open_stream(stream_server, "/api/events/_all/stream", world.keys["system"]) as system, \
            open_stream(stream_server, "/api/events/_all/stream?types=crm.*", world.keys["reseller"]) as reseller:
        a = emit(world.acme)
        g = emit(world.globex)
        i = emit(world.initech)
        assert ids(system.events(3, timeout=5)) == [a.pk, g.pk, i.pk]
        assert ids(reseller.events(2, timeout=5)) == [a.pk, g.pk]  # initech belongs to another reseller
        assert reseller.next_event(timeout=1) is None
        # A system key streams one tenant too.
        with open_stream(stream_server, "/api/events/initech/stream", world.keys["system"]) as one:
            i2 = emit(world.initech)
            emit(world.acme)
            assert ids(one.events(1, timeout=5)) == [i2.pk]


@pytest.mark.django_db  # the web process's view in-process: no server, no committed data
def test_the_web_process_answers_the_stream_path_with_where_it_is_served(api, settings):
    settings.EVENT_STREAM_URL = "http://stream.example:8001"
    response = api("acme").get("/api/events/acme/stream?types=crm.*", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 421
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "event_stream_elsewhere"
    assert body["stream_url"] == "http://stream.example:8001/api/events/acme/stream?types=crm.*"
    # Scope is checked first, as everywhere.
    assert api("globex").get("/api/events/acme/stream").json()["code"] == "tenant_not_found"


def test_a_client_that_does_not_read_is_dropped_with_a_reason(committed_world):
    from tests.helpers.stream_server import SseClient

    world = committed_world
    server = StreamServer(connection.settings_dict["NAME"], extra_env={
        "EVENT_STREAM_CLIENT_BUFFER": "4096"}).start()
    try:
        stream = open_stream(server, "/api/events/acme/stream", world.keys["acme"])
        stream.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        big = "x" * 2000
        last = None
        for i in range(2000):  # several MB, far beyond what the socket buffers hold
            last = emit(world.acme, id=i, blob=big)
        deadline = time.monotonic() + 20
        tail = None
        while time.monotonic() < deadline:
            event = stream.next_event(timeout=5)
            if event is None or event.get("eof"):
                break
            tail = event
            if event.get("event") == "stream-error":
                break
        assert tail is not None and tail.get("event") == "stream-error", tail
        assert json.loads(tail["data"])["code"] == "slow_consumer"
        assert last is not None
    finally:
        server.stop()
