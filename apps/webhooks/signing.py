"""Standard Webhooks secrets and signatures (https://www.standardwebhooks.com/).

Signing is done by the ``standardwebhooks`` package itself, so what receivers verify with it is
exactly what we send. During a secret rotation both secrets sign: the header carries one
``v1,<base64>`` per secret, separated by spaces, and a receiver holding either verifies.
"""
from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def valid_secret(value: str) -> bool:
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(value[len(SECRET_PREFIX):], validate=True)
    except ValueError:
        return False
    return 24 <= len(raw) <= 64


def signature_header(secrets_: list[str], message_id: str, timestamp: datetime, body: str) -> str:
    timestamp = timestamp.astimezone(timezone.utc)
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_)
