"""Field checks for servers and locations, shared by the API serializers and the admin form."""
from __future__ import annotations

import ipaddress
import posixpath
import re
import zoneinfo

from django.core.exceptions import ValidationError

SERVER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# The same rules as JSON Schema for the OpenAPI document (apps/pbx/api/schema.py): a DNS name
# (labels of letters, digits and inner hyphens, an optional final dot) or an IP address.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_SCHEMA = {"anyOf": [{"type": "string", "maxLength": 253, "pattern": f"^{_LABEL}(?:\\.{_LABEL})*\\.?$"},
                         {"type": "string", "format": "ipv6"}],
               "description": "A DNS name or an IP address (no scheme, no port)."}
# An absolute path of non-empty segments, none of them "." or "..".
_SEGMENT = "(?:[^/.\\u0000][^/\\u0000]*|\\.[^/.\\u0000][^/\\u0000]*|\\.\\.[^/\\u0000]+)"
CONFIG_DIR_PATTERN = f"^(?:/{_SEGMENT})+/?$"
# sounds_dir ends up in dialplan arguments and musiconhold.conf: plain path characters only (or empty).
SOUNDS_DIR_PATTERN = r"^$|^(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)+/?$"


def validate_server_name(value: str) -> None:
    # The name is how tenants name their primary server in the API (``primary_server: pbx-eu-1``).
    if not SERVER_NAME_RE.match(value or ""):
        raise ValidationError("Letters, digits, dots, hyphens and underscores, starting with a letter or digit.",
                              code="invalid_name")


def validate_host(value: str) -> None:
    """A DNS name or an IPv4/IPv6 address (no scheme, no port)."""
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    labels = (value or "").rstrip(".").split(".")
    if not value or len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValidationError(f"{value!r} is not a host name or IP address.", code="invalid_host")


def validate_config_dir(value: str) -> None:
    if not value.startswith("/") or "//" in value or posixpath.normpath(value) != value.rstrip("/") \
            or "\x00" in value:
        raise ValidationError("An absolute, normalised path (no '..', no '//').", code="invalid_path")


def validate_sounds_dir(value: str) -> None:
    if value and (not re.match(SOUNDS_DIR_PATTERN, value) or posixpath.normpath(value) != value.rstrip("/")):
        raise ValidationError("Empty (no sound files) or an absolute, normalised path of letters, digits, . _ - "
                              "(it is written into the dialplan and musiconhold.conf).", code="invalid_path")


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone.", code="invalid_timezone") from None
