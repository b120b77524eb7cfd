"""OpenAPI additions: the per-tenant ``cf_<name>`` filters and the custom field value types.

Custom fields are defined per tenant, so the document cannot list their names; it describes the
filter family (a form-style object parameter whose property names match ``cf_<name>[_suffix]``)
on every list that has them, and the value shapes in ``CustomFieldValue``.
"""
from __future__ import annotations

from thirdlane.api.schema import request_rules, schema_extension

CUSTOM_LISTS = ("crm-contacts", "crm-accounts", "crm-leads", "crm-deals", "crm-activities", "crm-tasks",
                "crm-campaigns")

CUSTOM_VALUE = {
    "description": "A custom field value, by the field's type: text, url, email (lower-cased), phone (E.164) and "
                   "choice are strings; number a number; date an ISO date string; boolean a boolean; multi_choice "
                   "a list of strings.",
    "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"},
              {"type": "array", "items": {"type": "string"}}],
}
CF_PARAMETER = {
    "name": "cf",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": "Custom field filters, one query parameter per field: `cf_<name>=<value>` (exact; for "
                   "multi-choice: has this choice), and for number fields `cf_<name>_min` / `cf_<name>_max`, for "
                   "date fields `cf_<name>_after` / `cf_<name>_before`. The names are the tenant's custom fields "
                   "for this object type (`GET /api/crm-custom-fields/{tenant}/?object_type=...`); an unknown one "
                   "is a 400 `unknown_filter`.",
    "schema": {"type": "object", "propertyNames": {"pattern": r"^cf_[a-z][a-z0-9_]*$"},
               "additionalProperties": {"type": "string"}},
}
# No example: Scalar sends a parameter's example with the first "Test request", and a tenant's
# custom field names cannot be known here (an unknown cf_<name> is a 400 unknown_filter).


@schema_extension
def crm_custom_fields(document: dict) -> dict:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["CustomFieldValue"] = CUSTOM_VALUE
    for path, operations in document.get("paths", {}).items():
        parts = [p for p in path.split("/") if p]
        if len(parts) == 3 and parts[1] in CUSTOM_LISTS and "get" in operations:
            params = operations["get"].setdefault("parameters", [])
            if not any(p.get("name") == "cf" for p in params):
                params.append(dict(CF_PARAMETER))
    return document


# Phone numbers are stored in E.164, read in the tenant's default region when national: only a
# valid number is accepted (400 invalid_phone), which the document says with ``format: phone``.
_PHONE = {"format": "phone"}
request_rules({name: {"fields": {field: _PHONE for field in fields}} for name, fields in {
    "ContactRequest": ("phone", "mobile", "work_phone"),
    "AccountRequest": ("phone",),
    "LeadRequest": ("phone",),
}.items()})


# --- imports: what apps/crm/importer/mapping.validate_columns and services._check_map refuse ------
def _column_map() -> dict:
    """A column map as ``validate_columns`` accepts it, from its own tables (fields, transforms).
    Two rules stay in words: one target per column (a target named twice is refused) and either
    ``full_name`` or first/last name; JSON Schema cannot compare the values of different keys."""
    from apps.crm.importer.mapping import CONTACT_FIELDS, TRANSFORMS

    target = {"anyOf": [{"type": "string", "enum": ["", *CONTACT_FIELDS]},
                        {"type": "string", "pattern": "^cf:[a-z][a-z0-9_]*$"}],
              "description": "A contact field, `cf:<custom field name>`, or empty to ignore the column."}
    spec = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "field": target,
            "transforms": {"type": "array", "items": {"type": "string", "enum": sorted(TRANSFORMS)}},
            "default": {"type": "string", "description": "The value of an empty cell."},
            "date_format": {"type": "string", "pattern": "^$|%",
                            "description": "A strptime format such as `%d/%m/%Y`."},
        },
        # split_name splits a full name: only with the full_name target.
        "anyOf": [{"not": {"required": ["transforms"]}},
                  {"properties": {"transforms": {"not": {"contains": {"const": "split_name"}}}}},
                  {"required": ["field"], "properties": {"field": {"const": "full_name"}}}],
    }
    return {"type": "object", "minProperties": 1, "additionalProperties": {"anyOf": [target, spec]},
            "description": 'CSV header -> target: `{"<header>": {"field": "email" | "cf:<name>" | "", '
                           '"transforms": ["trim", "lower"], "default": "", "date_format": ""}}` or '
                           '`{"<header>": "email"}`. At least one column; each target once; `full_name` '
                           "or `first_name`/`last_name`, not both."}


# Matching on a unique key (e-mail, external id) can update or skip, never create another contact.
_CREATE_NEEDS_NON_UNIQUE_KEY = {"anyOf": [
    {"not": {"required": ["on_match"]}},
    {"properties": {"on_match": {"enum": ["update", "skip"]}}},
    {"required": ["dedupe_on"], "properties": {"dedupe_on": {"enum": ["phone", "none"]}}},
]}

request_rules({
    "ImportMapRequest": {"fields": {"columns": _column_map()}, "schema": _CREATE_NEEDS_NON_UNIQUE_KEY},
    # The multipart form carries the file; a raw text/csv body is the other way to send it.
    "ImportRequestRequest": {"schema": {"required": ["file"]}},
})


@schema_extension
def crm_import_file_part(document: dict) -> dict:
    """The multipart ``file`` part of an import is a CSV text file (a binary file is refused)."""
    for path in ("/api/crm-contacts/{tenant}/import/", "/api/crm-contacts/{tenant}/import/preview/"):
        body = document.get("paths", {}).get(path, {}).get("post", {}).get("requestBody", {})
        multipart = body.get("content", {}).get("multipart/form-data")
        if multipart is not None:
            multipart["encoding"] = {"file": {"contentType": "text/csv"}}
    return document
