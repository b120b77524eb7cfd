from thirdlane.api.errors import register_error_code

register_error_code("webhook_target_refused", 400,
                    "The webhook URL points at a loopback, private, link-local or metadata address.")
register_error_code("unknown_event_type", 400, "An event selector matches no known event type.")
register_error_code("reserved_header", 400, "A custom header name is reserved for the webhook protocol.")
register_error_code("webhook_disabled", 409, "The webhook is disabled.")
