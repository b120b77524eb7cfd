"""schemathesis hooks of the contract test (loaded with SCHEMATHESIS_HOOKS).

Tenant paths should name the test world's tenant, or nearly every request stops at 404
``tenant_not_found`` before any validation. A fixed override would also replace the invalid slugs
of negative cases (then counted as "schema-violating request accepted"), so only a generated
slug that is valid becomes ``acme``; an invalid one is sent as generated.
"""
import re

import schemathesis

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


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
