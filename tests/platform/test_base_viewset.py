"""The tenant-scoped base viewset: tenant resolution, scope, schema hygiene and error shapes."""
import pytest
from django.db import connection

from tests.helpers.isolation import check_tenant_isolation

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.platform.urls_probe")]


@pytest.fixture
def schedules(world):
    from django_tenants.utils import tenant_context

    from apps.telephony.models import Schedule

    with tenant_context(world.acme):
        acme = [Schedule.objects.create(name=f"Acme {i}", timezone="UTC") for i in range(3)]
    with tenant_context(world.globex):
        Schedule.objects.create(name="Globex only", timezone="UTC")
    return acme


def test_probe_lists_rows_of_the_tenant_schema(api, world, schedules):
    response = api("acme").get("/api/probe/acme/")
    assert response.status_code == 200
    assert response["X-Total-Count"] == "3" and [r["name"] for r in response.json()] == ["Acme 0", "Acme 1", "Acme 2"]
    assert [r["name"] for r in api("globex").get("/api/probe/globex/").json()] == ["Globex only"]


def test_unknown_tenant_is_404_tenant_not_found(api, world):
    response = api("system").get("/api/probe/nope/")
    assert response.status_code == 404 and response.json()["code"] == "tenant_not_found"
    assert response["Content-Type"] == "application/problem+json"


def test_every_scope_outside_the_tenant_gets_404(api, world):
    for label in ("globex", "initech", "other_reseller"):
        response = api(label).get("/api/probe/acme/")
        assert response.status_code == 404 and response.json()["code"] == "tenant_not_found", label
    for label in ("acme", "reseller", "system"):
        assert api(label).get("/api/probe/acme/").status_code == 200, label


def test_schema_is_the_tenants_during_the_request_and_public_after(api, world):
    response = api("acme").get("/api/probe/acme/schema/")
    assert response.json()["search_path"].startswith(world.acme.schema_name)
    assert connection.schema_name == "public"
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert world.acme.schema_name not in cursor.fetchone()[0]


def test_a_request_that_raised_leaves_the_connection_on_public(api, world):
    from rest_framework.test import APIClient

    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=world.keys["acme"])
    response = client.get("/api/probe/acme/boom/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error" and "hunter2" not in response.content.decode()
    assert body["request_id"] == response["X-Request-ID"]
    assert connection.schema_name == "public"
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert world.acme.schema_name not in cursor.fetchone()[0]
    # and the next request for another tenant sees only its own schema
    assert api("globex").get("/api/probe/globex/schema/").json()["search_path"].startswith(world.globex.schema_name)


def test_probe_passes_the_shared_isolation_checks(api, world, schedules):
    # The probe is read-write through the generic services; isolation must hold for every verb.
    check_tenant_isolation(api, resource="probe", tenant=world.acme, obj_id=schedules[0].pk, update={"name": "x"},
                           create={"name": "new", "timezone": "UTC"})


def test_query_count_of_a_list_does_not_grow_with_rows(api, world, schedules, django_assert_max_num_queries):
    client = api("acme")
    client.get("/api/probe/acme/?limit=1")  # warm caches (content types, key last_used_at write)
    with django_assert_max_num_queries(6) as one:
        client.get("/api/probe/acme/?limit=1")
    with django_assert_max_num_queries(6) as many:
        client.get("/api/probe/acme/?limit=1000")
    assert len(one.captured_queries) == len(many.captured_queries)


def test_request_id_is_echoed_when_given_and_made_when_not(api, world):
    response = api("acme").get("/api/probe/acme/", HTTP_X_REQUEST_ID="trace-abc.123")
    assert response["X-Request-ID"] == "trace-abc.123"
    generated = api("acme").get("/api/probe/acme/")["X-Request-ID"]
    assert len(generated) == 32
    bad = api("acme").get("/api/probe/acme/", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert bad != "bad id\nwith newline" and len(bad) == 32
