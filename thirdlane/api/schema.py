"""OpenAPI 3.1 document: auth schemes, the problem+json component with its code enum, and
X-Total-Count / Link on every list.

Apps can add to the document (the webhooks section, say) by registering a function with
``schema_extension``; it receives the finished document and returns it.
"""
from __future__ import annotations

from typing import Callable

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from thirdlane.api.errors import ERROR_CODES, PROBLEM_CONTENT_TYPE

_extensions: list[Callable[[dict], dict]] = []


def schema_extension(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
    _extensions.append(fn)
    return fn


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "thirdlane.api.auth.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "A key `tl_<prefix>_<secret>` scoped to the system, a reseller, an organization "
                               "or a tenant."}


class BasicScheme(OpenApiAuthenticationExtension):
    target_class = "thirdlane.api.auth.BasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "thirdlane.api.auth.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The admin's session cookie; unsafe methods need the X-CSRFToken header."}


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self) -> list[str]:
        # /api/<resource>/... -> tag "<resource>"
        parts = [p for p in self.path.split("/") if p]
        return [parts[1]] if len(parts) > 1 else super().get_tags()


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details. `code` is stable; match on it, not on `detail`.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"$ref": "#/components/schemas/ErrorCode"},
        "errors": {
            "type": "object",
            "description": "Per-field errors: field name (dotted for nested fields) to a list of errors.",
            "additionalProperties": {
                "type": "array",
                "items": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
            },
        },
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}

_STANDARD_ERRORS = {
    "400": "Invalid request (validation_error, malformed_json, unknown_filter, invalid_pagination, ...).",
    "401": "Missing or invalid credentials.",
    "403": "The credential may not do this (read_only_credential, tenant_suspended, permission_denied).",
    "404": "Not found, or outside the caller's scope.",
}


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorCode"] = {
        "type": "string", "enum": sorted(ERROR_CODES),
        "description": "\n".join(f"* `{c.code}` ({c.status}): {c.title}" for c in sorted(ERROR_CODES.values(),
                                                                                          key=lambda c: c.code)),
    }
    schemas["Problem"] = PROBLEM
    headers = components.setdefault("headers", {})
    headers["X-Total-Count"] = {"description": "Total number of results for this query.",
                                "schema": {"type": "integer"}}
    headers["Link"] = {"description": "RFC 8288 links to the first, prev, next and last pages.",
                       "schema": {"type": "string"}}
    headers["X-Request-ID"] = {"description": "The request's id (echoes the request's X-Request-ID).",
                               "schema": {"type": "string"}}
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
                    content = response.get("content", {}).get("application/json", {}) or {}
                    schema = content.get("schema", {})
                    ref = schema.get("$ref", "")
                    if ref.startswith("#/components/schemas/Paginated"):
                        # Lists are plain arrays (the total is a header): inline the array.
                        schema = content["schema"] = schemas[ref.rsplit("/", 1)[1]]
                    if method == "get" and schema.get("type") == "array":
                        response["headers"]["X-Total-Count"] = {"$ref": "#/components/headers/X-Total-Count"}
                        response["headers"]["Link"] = {"$ref": "#/components/headers/Link"}
            for code, text in _STANDARD_ERRORS.items():
                responses.setdefault(code, {"description": text, "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}})
            if method in ("post", "put", "patch", "delete"):
                responses.setdefault("409", {"description": "Conflict (in_use, duplicate, ...).",
                                             "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}})
    for name in [n for n in schemas if n.startswith("Paginated") and n.endswith("List")]:
        del schemas[name]
    for extension in _extensions:
        result = extension(result)
    return result
