"""CDRs: the rows a billing system rates, written when calls end, pulled as JSON pages, by cursor,
and streamed as CSV / JSON lines."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django_tenants.utils import tenant_context

from apps.billing.models import Cdr
from tests.billing.conftest import write

pytestmark = pytest.mark.django_db

EXPECTED = [
    # direction, source, destination, did, trunk, extension, disposition, billsec, duration, cause
    ("inbound", "+14155550123", "+14155550100", "+14155550100", "carrier-a", "1001", "answered", 120, 124, 16),
    ("outbound", "+14155550100", "+14155550199", "", "carrier-a", "1001", "answered", 60, 69, 16),
    ("internal", "1001", "1002", "", "", "1001", "answered", 30, 32, 16),
    ("outbound", "+14155550100", "+442079460000", "", "carrier-a", "1002", "busy", 0, 4, 17),
]


def rows(queryset):
    return [(c.direction, c.source, c.destination, c.did, c.trunk, c.extension, c.disposition, c.billsec,
             c.duration, c.hangup_cause) for c in queryset]


def test_ended_calls_make_one_cdr_per_trunk_leg_or_internal_call(billing, world):
    write(billing, world)
    with tenant_context(world.acme):
        cdrs = list(Cdr.objects.order_by("id"))
    assert rows(cdrs) == EXPECTED
    assert {c.account_code for c in cdrs} == {"ACME-001"}
    assert cdrs[0].answered_at is not None and cdrs[3].answered_at is None


def test_replaying_the_same_calls_writes_nothing_twice(billing, world):
    write(billing, world)
    write(billing, world)
    with tenant_context(world.acme):
        assert Cdr.objects.count() == 4


def test_a_call_in_progress_has_no_cdr_until_it_ends(billing, world):
    from apps.calls.store import persist
    from tests.billing.conftest import known_calls

    [first, *_] = known_calls("acme", billing["trunks"]["acme"].pk)
    first.ended_at = None
    for item in first.legs.values():
        item.ended_at, item.hangup_cause = None, None
    persist(server=billing["server"], tenants={"acme": world.acme}, calls=[first], moments=[], members=[])
    with tenant_context(world.acme):
        assert Cdr.objects.count() == 0


def test_the_api_lists_cdrs_oldest_first_with_the_total(api, billing, world):
    write(billing, world)
    response = api("acme").get("/api/cdrs/acme/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["direction"], r["source"], r["destination"], r["billsec"]) for r in body] == \
        [(e[0], e[1], e[2], e[7]) for e in EXPECTED]
    assert response["X-Total-Count"] == "4"
    assert body[0]["started_at"] == "2026-11-02T09:00:00Z"
    filtered = api("acme").get("/api/cdrs/acme/?direction=outbound&min_billsec=1")
    assert [r["destination"] for r in filtered.json()] == ["+14155550199"]


def test_the_cursor_pulls_each_new_cdr_exactly_once(api, billing, world):
    client = api("acme")
    write(billing, world)
    first = client.get("/api/cdrs/acme/?limit=3")
    assert len(first.json()) == 3
    cursor = first["X-Next-Cursor"]
    second = client.get("/api/cdrs/acme/", {"after": cursor, "limit": 100})
    assert [r["destination"] for r in second.json()] == ["+442079460000"]
    cursor = second["X-Next-Cursor"]
    empty = client.get("/api/cdrs/acme/", {"after": cursor})
    assert empty.json() == [] and empty["X-Next-Cursor"] == cursor
    write(billing, world, offset=3600, prefix="b")  # new calls arrive
    third = client.get("/api/cdrs/acme/", {"after": cursor})
    assert rows(Cdr(**{k: v for k, v in r.items() if k in {f.name for f in Cdr._meta.fields}})
                for r in third.json()) == EXPECTED


def test_a_forged_or_foreign_cursor_is_refused(api, billing, world):
    write(billing, world)
    write(billing, world, "globex")
    foreign = api("globex").get("/api/cdrs/globex/")["X-Next-Cursor"]
    response = api("acme").get("/api/cdrs/acme/", {"after": foreign})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
    assert "after" in response.json()["errors"]
    mine = api("acme").get("/api/cdrs/acme/")["X-Next-Cursor"]
    forged = mine[:-3] + ("AAA" if not mine.endswith("AAA") else "BBB")
    response = api("acme").get("/api/cdrs/acme/", {"after": forged})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
    response = api("acme").get("/api/cdrs/acme/", {"after": mine, "offset": 2})
    assert response.status_code == 400 and response.json()["code"] == "invalid_pagination"


@pytest.mark.parametrize("bad", [{"started_after": "yesterday"}, {"direction": "sideways"}, {"bogus": "1"},
                                 {"min_billsec": "-1"}, {"limit": "0"}])
def test_bad_parameters_are_400_naming_the_parameter(api, billing, world, bad):
    response = api("acme").get("/api/cdrs/acme/", bad)
    assert response.status_code == 400, response.content
    assert set(bad) <= set(response.json()["errors"])


def test_csv_streams_every_selected_row_with_its_cursor(api, billing, world):
    write(billing, world)
    response = api("acme").get("/api/cdrs/acme/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["direction"], r["source"], r["destination"], r["did"], r["trunk"], r["extension"], r["disposition"],
             int(r["billsec"]), int(r["duration"]), int(r["hangup_cause"])) for r in table] == EXPECTED
    assert table[0]["started_at"] == "2026-11-02T09:00:00Z" and table[3]["answered_at"] == ""
    assert table[0]["account_code"] == "ACME-001"
    with tenant_context(world.acme):
        last = Cdr.objects.order_by("-id").first().pk
    following = api("acme").get("/api/cdrs/acme/", {"after": response["X-Next-Cursor"]}).json()
    assert following == [] and last == int(table[-1]["id"])


def test_json_lines_are_one_object_per_line_and_limit_caps_them(api, billing, world):
    write(billing, world)
    response = api("acme").get("/api/cdrs/acme/?format=jsonl&limit=2")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["destination"] for o in objects] == ["+14155550100", "+14155550199"]
    rest = api("acme").get("/api/cdrs/acme/", {"format": "jsonl", "after": response["X-Next-Cursor"]})
    assert [json.loads(line)["destination"] for line in b"".join(rest.streaming_content).decode().splitlines()] == \
        ["1002", "+442079460000"]


def test_csv_neutralises_a_formula_in_a_caller_id(billing, world, api):
    write(billing, world)
    with tenant_context(world.acme):
        Cdr.objects.filter(pk=Cdr.objects.order_by("id").first().pk).update(source="=HYPERLINK(\"x\")")
    text = b"".join(api("acme").get("/api/cdrs/acme/?format=csv").streaming_content).decode()
    first = list(csv.DictReader(io.StringIO(text)))[0]
    assert first["source"] == "'=HYPERLINK(\"x\")" and first["destination"] == "+14155550100"


def test_the_reseller_dashboard_shows_calls_and_minutes_this_month(billing, world, client, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.billing.selectors import usage

    write(billing, world)
    write(billing, world, "globex")
    month = datetime(2026, 11, 1, tzinfo=dt_timezone.utc)
    with CaptureQueriesContext(connection) as queries:
        used = usage([world.acme, world.globex, world.initech], month)
    assert len([q for q in queries.captured_queries if "billing_cdr" in q["sql"]]) == 1
    # 124 s + 69 s + 32 s + 4 s of calls billed 120 s, 60 s, 30 s, 0 s: 2 + 1 + 1 + 0 minutes
    assert used[world.acme.pk] == {"calls": 4, "minutes": 4} == used[world.globex.pk]
    assert used[world.initech.pk] == {"calls": 0, "minutes": 0}
    assert usage([world.acme], timezone.now())[world.acme.pk]["calls"] == 0
    assert client.login(username="reseller", password="pw-reseller-1")
    page = client.get("/admin/").content.decode()
    assert "Calls this month" in page and "Minutes" in page


def _fill(tenant, rows: int, first_id: int) -> None:
    from django.db import connection as conn

    from apps.tenants.crossschema import table

    with conn.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(Cdr, tenant.schema_name)} (id, server_id, linkedid, leg, direction, source, destination,"
            " did, trunk, extension, disposition, hangup_cause_text, account_code, started_at, ended_at, duration,"
            " billsec, created_at) SELECT %s + g, 1, 'x' || (%s + g), '', 'outbound', '+14155550123',"
            " '+442079460000', '', 'carrier-a', '1001', 'answered', 'Normal Clearing', 'ACME-001', now(), now(), 60,"
            " 58, now() FROM generate_series(1, %s) g", [first_id, first_id, rows])


def test_csv_streaming_holds_memory_flat(api, billing, world):
    import tracemalloc

    def peak_while_streaming(expected_rows: int) -> int:
        response = api("acme").get("/api/cdrs/acme/?format=csv")
        tracemalloc.start()
        try:
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert lines - 1 == expected_rows

    _fill(world.acme, 5_000, 10_000_000)
    small = peak_while_streaming(5_000)
    _fill(world.acme, 95_000, 20_000_000)
    large = peak_while_streaming(100_000)
    # 20x the rows, about the same memory: one COPY chunk at a time, never the whole result.
    assert large < 2 * small + 256 * 1024, (small, large)


def test_a_recorded_asterisk_call_fed_through_the_listener_makes_its_cdr(world, system_actor):
    """The real path: Asterisk 22's events of an internal call (tests/calls replays them too)."""
    from apps.calls.ingest import Ingestor
    from tests.calls.conftest import recorded_events, setup_pbx

    pbx = setup_pbx(world, system_actor)
    for _ in range(2):  # a second listener replaying the same events writes nothing twice
        ingestor = Ingestor(pbx["server"])
        for message in recorded_events("sip-call"):
            ingestor.feed(message)
        assert ingestor.flush()
    with tenant_context(world.acme):
        [cdr] = Cdr.objects.all()
    assert (cdr.direction, cdr.source, cdr.destination, cdr.extension, cdr.disposition, cdr.trunk) == \
        ("internal", "1001", "1002", "1001", "answered", "")
    assert cdr.linkedid == "1795750932.48" and cdr.leg == "" and cdr.hangup_cause == 16
    assert cdr.billsec <= cdr.duration and cdr.answered_at is not None
