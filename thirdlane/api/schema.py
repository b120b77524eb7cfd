"""OpenAPI 3.1 document: auth schemes, the problem+json component with its code enum, and
X-Total-Count / Link on every list.

Apps can add to the document (the webhooks section, say) by registering a function with
``schema_extension``; it receives the finished document and returns it.
"""
from __future__ import annotations

import inspect
import zoneinfo
from typing import Callable

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers
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


# Summaries of operations whose action name alone does not make a sentence, by (tag, action[, method])
# or (path, method).
# Everything else is generated from the action and the model's verbose names.
ACTION_SUMMARIES: dict[tuple[str, ...], str] = {
    ("api-keys", "revoke"): "Revoke an API key",
    ("/api/contact-center/{tenant}/", "GET"): "Get the contact-center overview",
    ("/api/contact-center/{tenant}/{id}/", "GET"): "Get an agent's or queue's live state",
    ("contact-center", "login"): "Log an agent in",
    ("contact-center", "logout"): "Log an agent out",
    ("contact-center", "pause"): "Pause an agent",
    ("contact-center", "unpause"): "Unpause an agent",
    ("crm-campaigns", "members", "GET"): "List campaign members",
    ("crm-campaigns", "members", "POST"): "Add campaign members",
    ("crm-campaigns", "remove_members"): "Remove campaign members",
    ("crm-campaigns", "member_status"): "Set campaign members' status",
    ("crm-contacts", "export"): "Export contacts as CSV",
    ("crm-contacts", "import_contacts"): "Import contacts from CSV",
    ("crm-contacts", "import_preview"): "Preview a contact import",
    ("crm-contacts", "lookup"): "Look up contacts by phone",
    ("crm-imports", "errors"): "Download an import's errors as CSV",
    ("crm-imports", "undo"): "Undo an import",
    ("crm-lists", "members", "GET"): "List contact-list members",
    ("crm-lists", "members", "POST"): "Add contacts to a list",
    ("crm-lists", "remove_members"): "Remove contact-list members",
    ("extensions", "bulk"): "Create a range of extensions",
    ("organization", "directory"): "Search an organization's directory",
    ("organization", "members", "GET"): "List an organization's member tenants",
    ("organization", "members", "POST"): "Add a member tenant to an organization",
    ("organization", "member", "GET"): "Get an organization's member tenant",
    ("organization", "member", "PATCH"): "Update an organization's member tenant",
    ("organization", "member", "DELETE"): "Remove a member tenant from an organization",
    ("organization", "sites"): "List an organization's sites",
    ("servers", "ami_check"): "Check a server's AMI connection",
    ("servers", "apply"): "Apply the configuration to a server",
    ("servers", "config"): "Render a server's configuration",
    ("servers", "pushes"): "List a server's configuration pushes",
    ("servers", "push"): "Get a configuration push",
    ("system-webhooks", "recover"): "Re-enable a disabled system webhook",
    ("system-webhooks", "rotate_secret"): "Rotate a system webhook's secret",
    ("system-webhooks", "test"): "Send a test delivery",
    ("system-webhooks", "resend"): "Resend a delivery",
    ("tenants", "resume"): "Resume a suspended tenant",
    ("time-conditions", "override"): "Override a time condition's schedule",
    ("webhooks", "recover"): "Re-enable a disabled webhook",
    ("webhooks", "rotate_secret"): "Rotate a webhook's secret",
    ("webhooks", "test"): "Send a test delivery",
    ("webhooks", "resend"): "Resend a delivery",
}
# Tags whose viewset docstring is missing or describes one view rather than the resource.
TAG_DESCRIPTIONS: dict[str, str] = {
    "contact-center": "Live contact-center state: an overview, agents (log in/out, pause) and queues.",
    "locations": "Locations of PBX servers and extensions (a site, a data centre), with their time zone.",
    "servers": "PBX servers (Asterisk): AMI endpoint, location and role; render and apply their configuration.",
    "system-webhooks": "Cross-tenant lifecycle events (tenant, extension, DID, trunk ...) to one endpoint, "
                       "with their deliveries.",
    "webhooks": "A tenant's webhooks: its events that match the selectors, signed (Standard Webhooks), with "
                "their deliveries.",
}

_CRUD_SUMMARIES = {
    "list": "List {plural}",
    "create": "Create {a} {name}",
    "retrieve": "Get {a} {name}",
    "update": "Replace {a} {name}",
    "partial_update": "Update {a} {name}",
    "destroy": "Delete {a} {name}",
}
TAG_KEY = "x-thirdlane-tag-description"  # carried from the operation to the top-level tags, then removed


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _first_paragraph(doc: str | None) -> str:
    text = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return " ".join(text.split())


NO_NUL = "^[^\\u0000]*$"
# What Python's str.strip() removes (DRF trims text fields, then refuses a blank one). Written out,
# because ECMA-262's \\s (the document's regex dialect) is not the same set.
_SPACE = "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"
# Short text that ends up in PBX config files and dialplan arguments (the write kernel's
# ``clean(one_line=True)``): no control character once DRF has trimmed the ends.
_CTRL = "\\u0000-\\u001f\\u007f"
_LINE = f"[^{_CTRL}{_SPACE}](?:[^{_CTRL}]*[^{_CTRL}{_SPACE}])?"
ONE_LINE = f"^[{_SPACE}]*(?:{_LINE})?[{_SPACE}]*$"
ONE_LINE_NOT_BLANK = f"^[{_SPACE}]*{_LINE}[{_SPACE}]*$"
# Apps whose services clean every model with ``one_line=True`` (apps/telephony/services/common.py).
ONE_LINE_APPS = {"telephony"}


def _model_field(field):
    """The model field a ModelSerializer field writes, or None."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not isinstance(getattr(field, "source", None), str):
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:  # a method, a nested serializer
        return None


def _model_pattern(model_field) -> str | None:
    """The regex of the model field's RegexValidator: the services' ``clean()`` runs the model's
    validators even where the serializer drops them (``validators: []`` to leave uniqueness to the
    service)."""
    for validator in getattr(model_field, "validators", ()):
        if isinstance(validator, RegexValidator) and not validator.inverse_match and not validator.flags:
            return validator.regex.pattern
    return None


def refine_request_field(field, schema: dict) -> None:
    """What DRF's fields refuse and drf-spectacular does not say: an empty list where
    ``allow_empty=False``, a blank (after trimming) text where ``allow_blank=False``, and NUL."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if isinstance(field, (serializers.ListField, serializers.ManyRelatedField)) \
            and not field.allow_empty and "minItems" not in schema:
        schema["minItems"] = 1
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "string" not in types or {"pattern", "enum", "format", "const"} & set(schema):
        return
    if any(isinstance(v, RegexValidator) for v in getattr(field, "validators", ())):
        return  # drf-spectacular writes its pattern afterwards
    model_field = _model_field(field)
    pattern = _model_pattern(model_field)
    if pattern:
        schema["pattern"] = pattern  # with allow_blank, drf-spectacular adds the blank as a oneOf branch
        return
    not_blank = isinstance(field, serializers.CharField) and not field.allow_blank and field.trim_whitespace
    one_line = type(model_field) is models.CharField and model_field.model._meta.app_label in ONE_LINE_APPS
    if isinstance(field, serializers.CharField) and field.trim_whitespace and one_line:
        schema["pattern"] = ONE_LINE_NOT_BLANK if not_blank else ONE_LINE
    elif not_blank:
        schema["pattern"] = NOT_BLANK
    else:
        schema["pattern"] = NO_NUL


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request":
            refine_request_field(field, schema)
            if isinstance(field, serializers.ListField) and isinstance(schema, dict) \
                    and isinstance(schema.get("items"), dict):
                refine_request_field(field.child, schema["items"])
        return schema

    def get_tags(self) -> list[str]:
        # /api/<resource>/... -> tag "<resource>"
        parts = [p for p in self.path.split("/") if p]
        return [parts[1]] if len(parts) > 1 else super().get_tags()

    def _model(self):
        queryset = getattr(type(self.view), "queryset", None)
        if queryset is not None:
            return queryset.model
        serializer = getattr(type(self.view), "serializer_class", None)
        return getattr(getattr(serializer, "Meta", None), "model", None)

    def _names(self) -> tuple[str, str]:
        """(singular, plural) of what the operation handles: the model's verbose names, else the tag."""
        model = self._model()
        if model is not None:
            return str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        tag = self.get_tags()[0].replace("-", " ")
        return (tag[:-1] if tag.endswith("s") else tag), tag

    def get_summary(self) -> str | None:
        action = getattr(self.view, "action", None)
        tag = self.get_tags()[0]
        for key in ((self.path, self.method), (tag, action, self.method), (tag, action)):
            if key in ACTION_SUMMARIES:
                return ACTION_SUMMARIES[key]
        name, plural = self._names()
        if action in _CRUD_SUMMARIES:
            template = _CRUD_SUMMARIES[action]
            if action == "list" and not self._is_list_view():
                template = "Get the {name}"
            return template.format(plural=plural, name=name, a=_article(name))
        if action:
            verb = action.strip("_").replace("_", " ")
            detail = getattr(getattr(self.view, action, None), "detail", None)
            if detail:
                return f"{verb.capitalize()} {_article(name)} {name}"
            return f"{verb.capitalize()} ({plural})"
        # A plain APIView: the first line of its docstring, else the method and the tag.
        doc = _first_paragraph(type(self.view).__doc__).split(". ")[0].rstrip(".")
        return doc or f"{self.method.capitalize()} {plural}"

    def tag_description(self) -> str:
        tag = self.get_tags()[0]
        if tag in TAG_DESCRIPTIONS:
            return TAG_DESCRIPTIONS[tag]
        own = type(self.view).__dict__.get("__doc__")
        if own:
            return _first_paragraph(own)
        name, plural = self._names()
        scope = " of a tenant" if "{tenant}" in self.path else ""
        return f"{plural[:1].upper()}{plural[1:]}{scope}."

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            operation[TAG_KEY] = self.tag_description()
        return operation


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

# Error responses, by status: (description, applies to the operation?). The predicate receives
# (path, method, operation). Every body is problem+json with the ErrorCode enum.
def _has_body(path: str, method: str, operation: dict) -> bool:
    return "requestBody" in operation


def _authenticated(path: str, method: str, operation: dict) -> bool:
    security = operation.get("security") or [{}]
    return {} not in security


def _writes(path: str, method: str, operation: dict) -> bool:
    return method in ("post", "put", "patch", "delete")


ERROR_RESPONSES: dict[str, tuple[str, Callable[[str, str, dict], bool]]] = {
    "400": ("Invalid request: validation_error (per field in `errors`), malformed_json, unknown_filter, "
            "invalid_filter, invalid_ordering, invalid_pagination, bad_request.", lambda *a: True),
    "401": ("Missing or invalid credentials: not_authenticated, invalid_api_key, api_key_expired, "
            "api_key_revoked, invalid_credentials.", lambda p, m, o: _authenticated(p, m, o)),
    "403": ("The credential may not do this: permission_denied, read_only_credential, csrf_failed, "
            "tenant_suspended.", lambda p, m, o: _authenticated(p, m, o)),
    "404": ("not_found, or tenant_not_found: no such object or tenant in the caller's scope.",
            lambda p, m, o: "{" in p),
    "405": ("method_not_allowed: the method is not allowed on this resource.", lambda p, m, o: False),
    "406": ("not_acceptable: the Accept header names no representation this operation produces.",
            lambda *a: True),
    "409": ("Conflict with the current state: conflict, in_use, duplicate.", _writes),
    "413": ("payload_too_large: the request body is over the size limit.", _has_body),
    "415": ("unsupported_media_type: the request body's Content-Type is not one this operation accepts.",
            _has_body),
    "422": ("limit_exceeded: a limit of the tenant would be exceeded.",
            lambda p, m, o: m == "post" and "{tenant}" in p),
    "429": ("rate_limited: too many requests; retry after `Retry-After` seconds.", lambda *a: True),
}
_RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}


def _strict(schema: dict, schemas: dict, seen: set) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _strict(schemas.get(name, {}), schemas, seen)
        return
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
        for sub in schema["properties"].values():
            _strict(sub, schemas, seen)
    if isinstance(schema.get("items"), dict):
        _strict(schema["items"], schemas, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, ()):
            _strict(sub, schemas, seen)


def _strict_request_bodies(result: dict, schemas: dict) -> None:
    """Request bodies refuse unknown fields (400 unknown_field), nested objects too (``options[0].x``),
    so their components say ``additionalProperties: false``: a client generated from the document
    sends nothing else."""
    seen: set = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _strict(media.get("schema", {}), schemas, seen)


_TIMEZONES = {"type": "string", "enum": sorted(zoneinfo.available_timezones())}
_ANY_LINK = [{"required": [name], "properties": {name: {"type": "integer"}}}
             for name in ("contact", "account", "lead", "deal")]
# Rules the services enforce that drf-spectacular cannot read from the serializers, by request
# component (the ``Patched...`` variant gets the field rules too). "fields" are merged into the
# properties; "schema" into the component (cross-field rules, for creates and full updates only).
REQUEST_RULES: dict[str, dict] = {
    "AgentRequest": {"fields": {"login_code": {"pattern": "^[0-9]{2,10}$"}}},
    "QueueRequest": {"fields": {"number": {"pattern": "^[0-9]{2,8}$"}}},
    "LocationRequest": {"fields": {"timezone": _TIMEZONES}},
    "ScheduleRequest": {"fields": {"timezone": _TIMEZONES}},
    "DealRequest": {"fields": {"amount": {"pattern": "^(?:[0-9]{1,12}(?:\\.[0-9]{0,2})?|\\.[0-9]{1,2})$"}}},
    "ImportMapRequest": {"fields": {"columns": {"type": "object"}}},
    "WebhookRequest": {"fields": {"event_types": {"minItems": 1}}},
    # A system credential names the reseller; a reseller's credential may leave it out (its own).
    "TenantRequest": {"schema": {"required": ["reseller"]}},
    "OrganizationRequest": {"schema": {"required": ["reseller"]}},
    "ActivityRequest": {"schema": {"anyOf": _ANY_LINK}},
    # rows, or start and end, never both (oneOf: a body with both matches both and is refused)
    "ExtensionBulkRequest": {"schema": {"oneOf": [
        {"required": ["start", "end"], "not": {"required": ["rows"]}},
        {"required": ["rows"], "not": {"anyOf": [{"required": ["start"]}, {"required": ["end"]}]}}]}},
    "CampaignAddMembersRequest": {"schema": {"anyOf": [
        {"required": ["contacts"], "properties": {"contacts": {"minItems": 1}}},
        {"required": ["lists"], "properties": {"lists": {"minItems": 1}}}]}},
}


def request_rules(rules: dict[str, dict]) -> None:
    """Add an app's rules to ``REQUEST_RULES`` (from its ``api/schema.py``, next to the validators
    they describe, so the document and the service read one regex)."""
    for name, rule in rules.items():
        merged = REQUEST_RULES.setdefault(name, {})
        fields = merged.setdefault("fields", {})
        for field, keywords in rule.get("fields", {}).items():
            fields[field] = {**fields.get(field, {}), **keywords}
        merged.setdefault("schema", {}).update(rule.get("schema", {}))


# Query parameters the views check by hand: (path, name) -> schema keywords.
PARAMETER_RULES: dict[tuple[str, str], dict] = {
    ("/api/organization/{id}/directory/", "q"): {"minLength": 1, "maxLength": 100},
    ("/api/crm-contacts/{tenant}/lookup/", "phone"): {"minLength": 1, "format": "phone"},
}


def _apply_rules(result: dict, schemas: dict) -> None:
    for name, rule in REQUEST_RULES.items():
        for component, whole in ((schemas.get(name), True), (schemas.get(f"Patched{name}"), False)):
            if not component:
                continue
            for field, keywords in rule.get("fields", {}).items():
                if field in component.get("properties", {}):
                    prop = component["properties"][field]
                    if {"enum", "type", "anyOf", "oneOf", "format"} & set(keywords):
                        prop.pop("pattern", None)
                    prop.update(keywords)
            if whole:
                for key, value in rule.get("schema", {}).items():
                    if key == "required":
                        component["required"] = sorted(set(component.get("required", [])) | set(value))
                    else:
                        component[key] = value
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                keywords = PARAMETER_RULES.get((path, parameter.get("name")))
                if keywords and parameter.get("in") == "query":
                    parameter.setdefault("schema", {}).update(keywords)


def _no_nul(schema: dict, schemas: dict, seen: set) -> None:
    """Text the API takes (request bodies, query parameters) cannot hold U+0000: PostgreSQL cannot
    store it and the API answers 400. Say so on every free-text string."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _no_nul(schemas.get(name, {}), schemas, seen)
        return
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "string" in types and not {"pattern", "enum", "format", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict) and schema[key]:
            _no_nul(schema[key], schemas, seen)
    for sub in schema.get("properties", {}).values():
        _no_nul(sub, schemas, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, ()):
            _no_nul(sub, schemas, seen)


def _no_nul_in_requests(result: dict, schemas: dict) -> None:
    seen: set = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "query":
                    _no_nul(parameter.get("schema", {}), schemas, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _no_nul(media.get("schema", {}), schemas, seen)


def _blank_branches(schema) -> None:
    """drf-spectacular writes a blankable text with a pattern or format as ``oneOf: [text, {maxLength:
    0}]``; where the text's pattern admits "" too, "" matches both and ``oneOf`` refuses it. The
    text branch is the non-blank one: ``minLength: 1``."""
    if isinstance(schema, dict):
        branches = schema.get("oneOf")
        if isinstance(branches, list) and len(branches) == 2 and branches[1].get("maxLength") == 0 \
                and branches[0].get("type") == "string" and "minLength" not in branches[0]:
            branches[0]["minLength"] = 1
            if branches[0].get("default") == "":
                schema.setdefault("default", branches[0].pop("default"))
        for value in schema.values():
            _blank_branches(value)
    elif isinstance(schema, list):
        for value in schema:
            _blank_branches(value)


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
    tags: dict[str, str] = {}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            description = operation.pop(TAG_KEY, None)
            for tag in operation.get("tags", []):
                if description and tag not in tags:
                    tags[tag] = description
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
            for code, response in responses.items():
                if code[0] in "45" and not response.get("content"):  # declared by a view, without a body
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}
            for code, (text, applies) in ERROR_RESPONSES.items():
                if code in responses or not applies(path, method, operation):
                    continue
                responses[code] = {"description": text, "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_ref}}}
                responses[code]["headers"] = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
                if code == "429":
                    responses[code]["headers"]["Retry-After"] = _RETRY_AFTER
            operation["responses"] = dict(sorted(responses.items()))
    health = result.get("paths", {}).get("/api/health/", {}).get("get")
    if health and "200" in health["responses"]:
        # The same body, when the database or Redis does not answer.
        health["responses"]["503"] = {**health["responses"]["200"],
                                      "description": "The database or Redis does not answer (status `error`)."}
    result["tags"] = [{"name": name, "description": tags[name]} for name in sorted(tags)]
    _strict_request_bodies(result, schemas)
    _no_nul_in_requests(result, schemas)
    _apply_rules(result, schemas)
    _blank_branches(result)
    for name in [n for n in schemas if n.startswith("Paginated") and n.endswith("List")]:
        del schemas[name]
    for extension in _extensions:
        result = extension(result)
    return result
