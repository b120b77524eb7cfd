from thirdlane.api.errors import register_error_code

register_error_code("slug_taken", 409, "The slug is already used by another tenant.")
register_error_code("reseller_limit", 422, "The reseller has reached its tenant limit.")
register_error_code("invalid_state", 409, "The object is not in a state that allows this.")
