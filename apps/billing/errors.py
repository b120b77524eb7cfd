"""Error codes of billing and exports (problem+json ``code`` values)."""
from thirdlane.api.errors import register_error_code

register_error_code("invalid_cursor", 400, "The cursor is not one this API issued for this tenant.")
