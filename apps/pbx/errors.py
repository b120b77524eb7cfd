from thirdlane.api.errors import register_error_code

register_error_code("server_unreachable", 503, "The PBX server's AMI did not answer.")
register_error_code("ami_refused", 502, "The PBX server refused the AMI login or action.")
register_error_code("invalid_config", 500, "The rendered configuration failed validation.")
register_error_code("no_primary_server", 409, "The tenant has no primary PBX server.")
register_error_code("agent_has_no_extension", 409, "The agent has no extension to ring.")
