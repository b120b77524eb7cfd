from thirdlane.api.errors import register_error_code

register_error_code("invalid_phone", 400, "A phone number is not valid.")
register_error_code("invalid_custom_field", 400, "A custom field value is not valid.")
register_error_code("unknown_custom_field", 400, "A custom field is not defined for this object type.")
register_error_code("import_file_invalid", 400, "The uploaded file cannot be imported as CSV.")
register_error_code("import_not_undoable", 409, "The import cannot be undone in its current state.")
register_error_code("lead_already_converted", 409, "The lead has already been converted.")
