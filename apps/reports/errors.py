from thirdlane.api.errors import register_error_code

# Statistics and counters (apps.reports.params): a range cut into more intervals than one request
# may ask for, and a time zone that is not in the IANA database.
register_error_code("range_too_long", 400, "The time range holds more intervals than one request may ask for.")
register_error_code("invalid_time_zone", 400, "The time zone is not an IANA time zone name.")
