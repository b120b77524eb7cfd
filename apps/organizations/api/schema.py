"""What the generated operations cannot say by themselves: the organization-specific refusals."""
from thirdlane.api.errors import PROBLEM_CONTENT_TYPE
from thirdlane.api.schema import schema_extension

PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
MEMBER_CONFLICTS = ("Conflict: `tenant_in_organization` (field `tenant`), `site_code_taken` or "
                    "`site_code_ambiguous` (field `site_code`).")


@schema_extension
def organization_errors(document: dict) -> dict:
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/api/organization/"):
            continue
        if path.endswith("/members/") and "post" in operations:
            responses = operations["post"]["responses"]
            responses["409"] = {"description": MEMBER_CONFLICTS, "content": PROBLEM}
            responses["422"] = {"description": "`tenant_reseller_mismatch`: the tenant belongs to another reseller "
                                               "than the organization (field `tenant`).", "content": PROBLEM}
        if path.endswith("/members/{tenant_slug}/") and "patch" in operations:
            operations["patch"]["responses"]["409"] = {"description": MEMBER_CONFLICTS, "content": PROBLEM}
        if path.endswith("/directory/") and "get" in operations:
            operations["get"]["responses"]["400"] = {
                "description": "`invalid_query` (field `q`: empty or over 100 characters), `invalid_directory_type` "
                               "(field `type`), `unknown_filter`, `invalid_pagination`.", "content": PROBLEM}
    return document
