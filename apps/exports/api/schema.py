"""The export schedule rules, stated in the OpenAPI document: the destination's settings by
destination type, the secret where one is needed, cron fields, IANA time zones, and "a reseller or
a tenant" (a reseller's credential may leave both out: its own reseller)."""
from __future__ import annotations

import zoneinfo

from thirdlane.api.schema import request_rules

_TEXT = {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "^[^\\u0000-\\u001f]*[^\\u0000-\\u001f ][^\\u0000-\\u001f]*$"}
_URL = {"type": "string", "format": "uri", "maxLength": 2000, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/@\\s]+(/.*)?$"}


def _kind(name: str, destination: dict, *, secret: bool) -> dict:
    branch = {"required": ["destination_type", "destination"],
              "properties": {"destination_type": {"const": name},
                             "destination": {"type": "object", "additionalProperties": False, **destination}}}
    if secret:
        branch["required"].append("secret")
        branch["properties"]["secret"] = {"type": "string", "minLength": 1}
    return branch


DESTINATIONS = {"oneOf": [
    _kind("http", {"required": ["url"], "properties": {"url": _URL}}, secret=False),
    _kind("s3", {"required": ["bucket", "access_key_id"], "properties": {
        "bucket": _TEXT, "prefix": {"type": "string", "maxLength": 500}, "endpoint_url": _URL,
        "region": {"type": "string", "maxLength": 64}, "access_key_id": _TEXT}}, secret=True),
    _kind("sftp", {"required": ["host", "username", "host_key"], "properties": {
        "host": {"type": "string", "pattern": "^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535}, "username": _TEXT,
        "path": {"type": "string", "maxLength": 500},
        "host_key": {"type": "string", "pattern": "^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$",
                     "description": "The server's public key as in known_hosts: `<type> <base64>`."}}}, secret=True),
    _kind("directory", {"required": ["path"], "properties": {
        "path": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$",
                 "description": "A folder inside the server's export directory (relative, no `..`)."}}},
          secret=False),
]}

_V = {"minute": "[0-5]?[0-9]", "hour": "[01]?[0-9]|2[0-3]", "day": "0?[1-9]|[12][0-9]|3[01]",
      "month": "0?[1-9]|1[0-2]", "weekday": "[0-7]"}


def _field(value: str) -> str:
    item = f"(\\*|({value})(-({value}))?)(/[1-9][0-9]?)?"
    return f"{item}(,{item})*"


CRON = "^" + " ".join(_field(_V[k]) for k in ("minute", "hour", "day", "month", "weekday")) + "$"

request_rules({
    "ExportScheduleRequest": {
        "fields": {"cron": {"pattern": CRON, "description": "Five cron fields: minute hour day-of-month month "
                                                            "day-of-week (numbers, `*`, ranges, lists, steps)."},
                   "timezone": {"type": "string", "enum": sorted(zoneinfo.available_timezones())}},
        "schema": {"allOf": [DESTINATIONS, {"anyOf": [
            {"required": ["reseller"]}, {"required": ["tenant"], "properties": {"tenant": {"type": "string"}}}]}]},
    },
})
