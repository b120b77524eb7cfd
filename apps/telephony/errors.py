"""Error codes of the telephony API (problem+json ``code`` values)."""
from thirdlane.api.errors import register_error_code

register_error_code("duplicate_number", 409, "The number is already used in this tenant's number plan.")
register_error_code("invalid_number", 400, "The number does not fit the tenant's number plan.")
register_error_code("invalid_e164", 400, "The phone number is not a valid E.164 number.")
register_error_code("number_taken", 409, "The DID is already assigned on this platform.")
register_error_code("destination_not_found", 400, "The destination does not exist in this tenant.")
register_error_code("invalid_destination", 400, "The destination is not well formed.")
register_error_code("destination_loop", 400, "The time conditions would route calls in a loop.")
register_error_code("duplicate_digit", 400, "Two options of the IVR use the same digit.")
register_error_code("invalid_range", 400, "A time or date range ends before it starts.")
register_error_code("weak_secret", 400, "The secret is too weak.")
register_error_code("missing_credentials", 400, "A registration trunk needs a username and a secret.")
register_error_code("invalid_codec", 400, "Unknown or repeated codec.")
register_error_code("invalid_pattern", 400, "Not a valid Asterisk dial pattern.")
register_error_code("reference_not_found", 400, "A referenced object does not exist in this tenant.")
register_error_code("feature_code_conflict", 409, "Two enabled feature codes are equal, or one starts with a code "
                                                  "that takes digits after it.")
