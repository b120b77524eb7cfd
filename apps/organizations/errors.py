from thirdlane.api.errors import register_error_code

register_error_code("tenant_in_organization", 409, "The tenant already belongs to an organization.")
register_error_code("tenant_reseller_mismatch", 422, "The tenant belongs to another reseller than the organization.")
register_error_code("site_code_taken", 409, "Another member of the organization has this site code.")
register_error_code("site_code_ambiguous", 409,
                    "The site code would make inter-site numbers of two members overlap.")
register_error_code("invalid_query", 400, "The search query is empty or too long.")
register_error_code("invalid_directory_type", 400, "The directory type is not one of extension, contact, queue.")
