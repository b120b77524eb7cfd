"""Encryption at rest for secrets the PBX needs back (SIP, AMI and trunk passwords).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from FIELD_ENCRYPTION_KEY (or SECRET_KEY in
development). Several comma-separated keys may be given: the first encrypts, all decrypt, so
keys can be rotated.
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

_PREFIX = "enc1:"


def _derive(secret: str) -> Fernet:
    digest = hashlib.sha256(("thirdlane-field-encryption:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([_derive(k.strip()) for k in keys.split(",") if k.strip()])


def _current() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return _PREFIX + _current().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        return token  # plaintext written before encryption was enabled
    try:
        return _current().decrypt(token[len(_PREFIX):].encode()).decode()
    except InvalidToken as exc:  # never include the token in the message
        raise ValueError("encrypted field cannot be decrypted with the configured keys") from exc


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees plaintext.

    Not filterable by value (ciphertexts are randomised), which is what a secret wants.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
