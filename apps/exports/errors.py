"""Error codes of billing exports."""
from thirdlane.api.errors import register_error_code

register_error_code("invalid_destination_settings", 400, "The export destination's settings are not valid.")
register_error_code("export_running", 409, "The schedule has a run in progress.")
