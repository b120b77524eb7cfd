from thirdlane.api.errors import register_error_code

# Call control (apps.calls.control). Codes a job can end with are listed in control.JOB_ERRORS.
register_error_code("number_not_routable", 400, "The tenant's dialplan has no route for the number.")
register_error_code("caller_id_not_allowed", 400, "The caller ID is not one of the tenant's DIDs or extensions.")
register_error_code("channel_not_found", 404, "The channel is not one of the tenant's calls in progress.")
register_error_code("not_supported_by_dialplan", 409, "The tenant's dialplan does not support this action.")
register_error_code("not_a_queue_member", 400, "The extension is not a member of the queue.")
