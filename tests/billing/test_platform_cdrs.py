"""CDRs across tenants for reseller and system credentials: one statement over the schemas, the
scope's tenants only, one cursor over all of them."""
from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.billing.conftest import write

pytestmark = pytest.mark.django_db


def test_a_reseller_pulls_its_tenants_cdrs_once_each(api, billing, world):
    write(billing, world)
    write(billing, world, "globex")
    client = api("reseller")
    first = client.get("/api/cdrs/", {"limit": 5})
    assert first.status_code == 200, first.content
    assert first["X-Total-Count"] == "8"
    assert [(r["tenant"], r["account_code"]) for r in first.json()] == [("acme", "ACME-001")] * 4 + [("globex", "GLX")]
    rest = client.get("/api/cdrs/", {"after": first["X-Next-Cursor"], "limit": 100})
    assert [r["tenant"] for r in rest.json()] == ["globex"] * 3
    write(billing, world, offset=3600, prefix="b")
    new = client.get("/api/cdrs/", {"after": rest["X-Next-Cursor"]})
    assert [r["tenant"] for r in new.json()] == ["acme"] * 4
    ids = [(r["tenant"], r["id"]) for page in (first, rest, new) for r in page.json()]
    assert len(ids) == len(set(ids)) == 12


def test_other_scopes_see_nothing_of_it_and_tenant_keys_are_refused(api, billing, world):
    write(billing, world)
    assert api("other_reseller").get("/api/cdrs/").json() == []
    assert api("acme").get("/api/cdrs/").status_code == 403
    mine = api("reseller").get("/api/cdrs/")["X-Next-Cursor"]
    refused = api("other_reseller").get("/api/cdrs/", {"after": mine})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_cursor"
    assert api("system").get("/api/cdrs/", {"tenant": "acme"})["X-Total-Count"] == "4"


def test_one_statement_whatever_the_number_of_tenants(api, billing, world):
    write(billing, world)
    write(billing, world, "globex")
    client = api("system")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/cdrs/")
    cdr_queries = [q for q in queries.captured_queries if "billing_cdr" in q["sql"]]
    assert response.status_code == 200 and len(cdr_queries) == 3  # highs, rows, count


def test_csv_over_tenants_has_a_tenant_column(api, billing, world):
    write(billing, world)
    write(billing, world, "globex")
    response = api("reseller").get("/api/cdrs/", {"format": "csv", "direction": "inbound"})
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["tenant"], r["source"]) for r in table] == [("acme", "+14155550123"), ("globex", "+14155550123")]


@pytest.mark.parametrize("bad", [{"started_before": "soon"}, {"disposition": "maybe"}, {"bogus": 1},
                                 {"after": "x:y"}])
def test_bad_parameters_are_400(api, billing, world, bad):
    response = api("reseller").get("/api/cdrs/", bad)
    assert response.status_code == 400 and set(bad) <= set(response.json()["errors"])
