"""The statistics API: scope, parameters refused with a stable code naming the parameter, CSV."""
from __future__ import annotations

import csv
import io

import pytest

from tests.reports.test_agent_stats import calls  # noqa: F401 (fixture)

AGENT = "/api/agent-stats/acme/"


def test_agent_stats_json_page_and_total(api, calls):  # noqa: F811
    response = api("acme").get(AGENT, {"start": "2025-03-03T00:00:00Z", "end": "2025-03-05T00:00:00Z",
                                       "tz": "UTC", "limit": 2})
    assert response.status_code == 200, response.json()
    assert response["X-Total-Count"] == "4"
    first = response.json()[0]
    assert first["interval_start"] == "2025-03-03T00:00:00Z" and first["extension"] == "1001"
    assert (first["offered"], first["talk_seconds"], first["pause_by_reason"]) == (3, 100, {"": 3600, "lunch": 1800})


def test_agent_stats_pages_are_slices_of_the_whole_result_one_statement_each(api, calls, world):  # noqa: F811
    """A page is computed in SQL (only its rows shaped): each page equals the same slice of every
    row, in the same order, with the total; a page past the end is empty with the total."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = {"start": "2025-03-03T00:00:00Z", "end": "2025-03-07T00:00:00Z", "tz": "UTC", "by_queue": "true"}
    every = api("acme").get(AGENT, {**query, "limit": 1000}).json()
    assert len(every) == 12 and {row["level"] for row in every} == {"agent", "agent_queue", "queue"}
    for limit, offset in ((3, 0), (3, 3), (4, 8), (5, 10), (12, 0)):
        with CaptureQueriesContext(connection) as ctx:
            response = api("acme").get(AGENT, {**query, "limit": limit, "offset": offset})
        assert response.json() == every[offset:offset + limit], (limit, offset)
        assert response["X-Total-Count"] == "12"
        assert len([q for q in ctx.captured_queries if "reports_queuecall" in q["sql"]]) == 1
    past = api("acme").get(AGENT, {**query, "limit": 3, "offset": 20})
    assert past.json() == [] and past["X-Total-Count"] == "12"
    csv_page = api("acme").get(AGENT, {**query, "limit": 2, "offset": 1}, HTTP_ACCEPT="text/csv")
    assert [r["extension"] for r in csv.DictReader(io.StringIO(csv_page.content.decode()))] == \
        [row["extension"] or "" for row in every[1:3]]


def test_agent_stats_csv_for_bi_tools(api, calls):  # noqa: F811
    response = api("acme").get(AGENT, {"start": "2025-03-03T00:00:00+01:00", "end": "2025-03-04T00:00:00+01:00",
                                       "tz": "Europe/Berlin"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["interval_start"], r["extension"], r["agent_name"], r["offered"], r["pause_by_reason"]) for r in rows] \
        == [("2025-03-03T00:00:00+01:00", "1001", "Ann", "3", "lunch=1800"),
            ("2025-03-03T00:00:00+01:00", "1002", "Bob", "2", "")]


def test_call_counters_for_the_tenant_and_the_platform(api, world):
    assert api("acme").get("/api/call-counters/acme/").status_code == 200
    response = api("reseller").get("/api/call-counters/", {"interval": "week"})
    assert response.status_code == 200
    assert {r["tenant"] for r in response.json()} == {"acme", "globex"}  # not the other reseller's initech
    assert {r["tenant"] for r in api("system").get("/api/call-counters/", {"limit": 1000}).json()} == \
        {"acme", "globex", "initech"}
    assert {r["tenant"] for r in api("system").get("/api/call-counters/", {"tenant": "globex"}).json()} == {"globex"}


@pytest.mark.parametrize("query,code,field", [
    ({"interval": "month"}, "invalid_filter", "interval"),
    ({"start": "yesterday"}, "invalid_filter", "start"),
    ({"start": "1800-01-01T00:00:00Z"}, "invalid_filter", "start"),
    ({"start": "2025-03-03T00:00:00+24:00"}, "invalid_filter", "start"),
    ({"start": "2025-03-05T00:00:00Z", "end": "2025-03-03T00:00:00Z"}, "invalid_range", "end"),
    ({"start": "2025-03-03T00:00:00Z", "end": "2025-03-03T00:00:00Z"}, "invalid_range", "end"),
    ({"start": "2025-01-01T00:00:00Z", "end": "2025-03-01T00:00:00Z", "interval": "hour"}, "range_too_long", "end"),
    ({"tz": "Mars/Olympus"}, "invalid_time_zone", "tz"),
    ({"colour": "blue"}, "unknown_filter", "colour"),
    ({"service_level_seconds": "0"}, "invalid_filter", "service_level_seconds"),
    ({"by_queue": "yes"}, "invalid_filter", "by_queue"),
    ({"queue": ""}, "invalid_filter", "queue"),
])
def test_bad_parameters_are_problems_naming_the_parameter(api, world, query, code, field):
    response = api("acme").get(AGENT, query)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and list(body["errors"]) == [field], body


def test_a_thousand_days_are_fine_and_one_more_is_too_long(api, world):
    ok = api("acme").get("/api/call-counters/acme/", {"start": "2020-01-01T00:00:00Z", "end": "2022-09-27T00:00:00Z",
                                                       "tz": "UTC"})
    assert ok.status_code == 200 and ok["X-Total-Count"] == "1000"
    too_long = api("acme").get("/api/call-counters/acme/", {"start": "2020-01-01T00:00:00Z",
                                                             "end": "2022-09-27T00:00:01Z", "tz": "UTC"})
    assert too_long.json()["code"] == "range_too_long"


def test_other_tenants_and_writes(api, world):
    assert api("globex").get(AGENT).json()["code"] == "tenant_not_found"
    assert api("acme").post(AGENT, {}).status_code == 405
    assert api("acme").get("/api/call-counters/").status_code == 200  # a tenant key sees its own tenant
