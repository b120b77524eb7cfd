"""The OpenAPI 3.1 document and the health endpoint."""
import json

import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from thirdlane.api.errors import ERROR_CODES

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    assert errors == [], [str(e)[:300] for e in errors[:5]]


def test_schema_is_also_served_as_yaml(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.1")


def test_every_list_operation_documents_x_total_count_and_pagination(document):
    lists = 0
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        ok = get["responses"].get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            lists += 1
            assert "X-Total-Count" in ok.get("headers", {}), path
            assert "Link" in ok.get("headers", {}), path
            names = {p["name"] for p in get.get("parameters", [])}
            assert {"limit", "offset"} <= names, path
    assert lists >= 3


def test_error_codes_are_an_enum_and_errors_are_problem_json(document):
    enum = document["components"]["schemas"]["ErrorCode"]["enum"]
    assert set(enum) == set(ERROR_CODES)
    for code in ("tenant_not_found", "tenant_suspended", "invalid_api_key", "unknown_filter", "payload_too_large"):
        assert code in enum
    op = document["paths"]["/api/tenants/"]["get"]
    assert "application/problem+json" in op["responses"]["401"]["content"]


def test_security_schemes_cover_the_three_methods(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                     "description": schemes["apiKeyAuth"]["description"]}
    assert schemes["basicAuth"]["scheme"] == "basic"
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_docs_page_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/vendor/scalar/standalone.js" in html
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


def test_health_reports_database_redis_and_worker(client):
    response = client.get("/api/health/")
    body = response.json()
    assert response.status_code == 200
    assert body["database"]["status"] == "ok" and body["redis"]["status"] == "ok"
    assert body["worker"]["status"] in ("ok", "down")
    assert body["status"] in ("ok", "degraded")


def test_health_sees_a_fresh_worker_heartbeat(client):
    from thirdlane.health import heartbeat

    heartbeat()  # what the worker runs every 15 s
    body = client.get("/api/health/").json()
    assert body["worker"]["status"] == "ok" and body["status"] == "ok"


def test_docs_api_md_lists_every_error_code():
    """docs/api.md is regenerated with `manage.py api_error_codes --write`."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    missing = [code for code in ERROR_CODES if f"| `{code}` |" not in text]
    assert missing == [], f"run manage.py api_error_codes --write; missing: {missing}"
