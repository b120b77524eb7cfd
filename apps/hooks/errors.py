"""Error codes of the integrator hooks."""
from thirdlane.api.errors import register_error_code

register_error_code("invalid_dialplan", 400, "The custom dialplan is refused by the config checker; the error "
                                             "names the line.")
register_error_code("foreign_context", 400, "The custom dialplan jumps to or includes a context that is not "
                                            "the tenant's own.")
