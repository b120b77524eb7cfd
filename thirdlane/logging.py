"""Structured logging: one JSON object per line with the request id, tenant and actor.

Anything that looks like a secret (API keys, passwords, SIP/AMI secrets, webhook secrets) is
masked before a record is written, whatever the logger that produced it.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

from thirdlane.context import actor_var, request_id_var, tenant_var

_SECRET_PATTERNS = [
    # key: value / key=value pairs whose key names a secret
    re.compile(r"(?i)((?:secret|password|passwd|api[_-]?key|authorization|token|pin)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)"),
    # our own credential formats
    re.compile(r"()\b(tl_[A-Za-z0-9]{8}_[A-Za-z0-9]{20,})"),
    re.compile(r"()\b(whsec_[A-Za-z0-9+/=]{16,})"),
]


def mask_secrets(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    return text


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        record.tenant = getattr(record, "tenant", None) or tenant_var.get()
        record.actor = getattr(record, "actor", None) or actor_var.get()
        return True


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "tenant", "actor"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "tenant": getattr(record, "tenant", None),
            "actor": getattr(record, "actor", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value if isinstance(value, (int, float, bool, type(None))) else mask_secrets(str(value))
        if record.exc_info:
            payload["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{record.levelname:<7} {record.name} [{getattr(record, 'request_id', None) or '-'}" \
               f" {getattr(record, 'tenant', None) or '-'}] {record.getMessage()}"
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return mask_secrets(base)
