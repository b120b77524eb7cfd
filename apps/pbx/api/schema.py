"""What the server and location services refuse, stated in the OpenAPI document from the same
regexes (apps/pbx/validators.py), so a client generated from it sends nothing the API refuses."""
from __future__ import annotations

from apps.pbx import validators
from thirdlane.api.schema import request_rules

request_rules({
    "ServerRequest": {"fields": {
        "name": {"pattern": validators.SERVER_NAME_RE.pattern},
        "host": validators.HOST_SCHEMA,
        "sip_address": validators.HOST_SCHEMA,
        "ami_host": validators.HOST_SCHEMA,
        "config_dir": {"pattern": validators.CONFIG_DIR_PATTERN},
        "sounds_dir": {"pattern": validators.SOUNDS_DIR_PATTERN},
    }},
})
