"""Error codes of the phones API (problem+json ``code`` values)."""
from thirdlane.api.errors import register_error_code

register_error_code("invalid_mac", 400, "Not a MAC address a phone can have.")
register_error_code("mac_taken", 409, "The MAC address is already provisioned on this platform.")
register_error_code("invalid_model", 400, "The model is not one of the vendor's models.")
register_error_code("too_many_lines", 400, "The phone has fewer lines than the positions given.")
register_error_code("duplicate_line", 400, "Two lines of the phone use the same position or the same extension.")
