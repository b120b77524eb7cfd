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


OPERATION_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in OPERATION_METHODS:
                yield path, method, operation


def test_every_operation_has_a_summary_scalar_can_show(document):
    missing = [f"{m.upper()} {p}" for p, m, op in _operations(document) if not op.get("summary")]
    assert missing == []
    summaries = {(p, m): op["summary"] for p, m, op in _operations(document)}
    assert summaries["/api/extensions/{tenant}/", "get"] == "List extensions"
    assert summaries["/api/extensions/{tenant}/", "post"] == "Create an extension"
    assert summaries["/api/extensions/{tenant}/{id}/", "patch"] == "Update an extension"
    assert summaries["/api/tenants/{slug}/suspend/", "post"] == "Suspend a tenant"
    assert summaries["/api/agents/{tenant}/", "get"] == "List agents"


def test_every_operation_declares_its_errors_as_problem_json(document):
    for path, method, op in _operations(document):
        responses = op["responses"]
        errors = {code: r for code, r in responses.items() if code[0] in "45"}
        assert {"400", "406", "429"} <= set(errors), (method, path, sorted(responses))
        for code, response in errors.items():
            if path == "/api/health/" and code == "503":
                continue  # the health body itself, with status "error"
            assert list(response["content"]) == ["application/problem+json"], (method, path, code)
            assert response["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}
        if op.get("security") and {} not in op["security"]:
            assert {"401", "403"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if "requestBody" in op:
            assert {"413", "415"} <= set(errors), (method, path)
        if method != "get":
            assert "409" in errors, (method, path)


def test_every_tag_has_a_description(document):
    used = {tag for _, _, op in _operations(document) for tag in op.get("tags", [])}
    described = {t["name"]: t.get("description", "") for t in document.get("tags", [])}
    assert used <= set(described), used - set(described)
    assert all(len(text) > 10 for text in described.values()), described
    assert "x-thirdlane-tag-description" not in json.dumps(document)


def test_request_bodies_refuse_unknown_properties(document):
    """Unknown body fields are a 400 unknown_field, so request schemas say so."""
    schemas = document["components"]["schemas"]
    ref = document["paths"]["/api/extensions/{tenant}/"]["post"]["requestBody"]["content"]["application/json"]
    assert schemas[ref["schema"]["$ref"].rsplit("/", 1)[1]]["additionalProperties"] is False


def test_examples_never_make_a_first_request_fail(document):
    """Scalar sends parameter and request-body examples with the first "Test request": none may be
    a tenant-specific value such as a custom field the tenant does not have (a 400)."""
    schemas = document["components"]["schemas"]

    def examples(node, seen):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref not in seen:
                seen.add(ref)
                yield from examples(schemas[ref.rsplit("/", 1)[1]], seen)
            for key, value in node.items():
                if key in ("example", "examples"):
                    yield value
                else:
                    yield from examples(value, seen)
        elif isinstance(node, list):
            for item in node:
                yield from examples(item, seen)

    found = []
    for path, method, op in _operations(document):
        found += [(path, "parameter", e) for e in examples(op.get("parameters", []), set())]
        found += [(path, "body", e) for e in examples(op.get("requestBody", {}), set())]
    custom = [f for f in found if "cf_" in json.dumps(f[2]) or "tier" in json.dumps(f[2])]
    assert custom == []
