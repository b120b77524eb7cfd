"""schemathesis hooks of the contract test (loaded with SCHEMATHESIS_HOOKS).

Tenant paths should name the test world's tenant, or nearly every request stops at 404
``tenant_not_found`` before any validation. A fixed override would also replace the invalid slugs
of negative cases (then counted as "schema-violating request accepted"), so only a generated
slug that is valid becomes ``acme``; an invalid one is sent as generated.

"Schema-valid request rejected" (ST202) is schemathesis' ``positive_data_acceptance`` with one
documented widening (docs/api.md): a schema-valid request may still name data that does not exist
in the database, or collide with data that does. Besides the 404/409 schemathesis already accepts
for that, the API answers it as a 400 whose every per-field error says so (``STATE_CODES``). Any
other 400 to schema-valid data is a failure: the document must say what the API refuses.
"""
import json
import re

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")

# Per-field error codes that depend on the database, not on the request's shape:
# a referenced object (an id, a slug, a location code) does not exist; a value must be unique
# and is taken; a `custom` key names no custom field the tenant defined (they exist per tenant,
# like the `cf_<name>` filters).
STATE_CODES = {"does_not_exist", "reference_not_found", "unique", "unknown_custom_field"}


def _state_dependent(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return False
    errors = body.get("errors") or {}
    codes = {item.get("code") for items in errors.values() for item in items if isinstance(item, dict)}
    return bool(codes) and codes <= STATE_CODES


@schemathesis.check
def positive_data_acceptance_of_existing_data(ctx, response, case):
    """schemathesis' positive_data_acceptance (ST202), where a 400 that only says referenced data
    does not exist (or unique data exists) counts as accepted. Run instead of the built-in."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _state_dependent(response):
            return None
        raise


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # At call time, so it applies in every phase (examples, coverage, fuzzing).
    tenant = (case.path_parameters or {}).get("tenant")
    if isinstance(tenant, str) and SLUG.fullmatch(tenant):
        case.path_parameters["tenant"] = "acme"
    # The CRM lists' `cf_<name>` filters exist per tenant (the document describes the family, it
    # cannot name them) and an unknown one is a 400 unknown_filter by design. The test world's
    # tenant defines no custom fields, so generated cf_* names are left out (docs/api.md).
    if case.query and any(str(k).startswith("cf_") for k in case.query):
        case.query = {k: v for k, v in case.query.items() if not str(k).startswith("cf_")}
