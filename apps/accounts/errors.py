from thirdlane.api.errors import register_error_code

register_error_code("scope_violation", 403, "The credential cannot grant or reach that scope.")
