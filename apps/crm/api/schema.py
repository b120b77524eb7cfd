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
