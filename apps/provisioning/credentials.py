"""The phone's two passwords: the provisioning credential (what the phone authenticates with to
fetch its files) and the admin password of its own web interface.

Both go into the phone's configuration files, so they keep to characters every vendor's format
takes unquoted; the admin password is letters and digits only (Grandstream's P2 allows no more).
"""
from __future__ import annotations

import re
import secrets
import string

from thirdlane.api.errors import DomainError, Invalid

_LETTERS_DIGITS = string.ascii_letters + string.digits
CHARACTERS = r"[A-Za-z0-9._~!@#%^*+=-]{16,64}"
STRONG = r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])"
ADMIN_CHARACTERS = r"[A-Za-z0-9]{8,32}"
ADMIN_STRONG = r"(?=.*[A-Za-z])(?=.*[0-9])"
# For the OpenAPI document (an empty value means "keep" or "generate"): the whole rule, stated.
PASSWORD_PATTERN = rf"^(?:|{STRONG}{CHARACTERS})$"
ADMIN_PASSWORD_PATTERN = rf"^(?:|{ADMIN_STRONG}{ADMIN_CHARACTERS})$"
_PASSWORD = re.compile(rf"^{CHARACTERS}$")
_ADMIN = re.compile(rf"^{ADMIN_CHARACTERS}$")


def generate(length: int = 24) -> str:
    """Random letters and digits, with at least one of each kind."""
    while True:
        value = "".join(secrets.choice(_LETTERS_DIGITS) for _ in range(length))
        if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value):
            return value


def validate_password(value: str, *, field: str = "password") -> str:
    if not isinstance(value, str) or not _PASSWORD.fullmatch(value):
        raise Invalid("16 to 64 characters: letters, digits and . _ ~ ! @ # % ^ * + = -", field=field)
    if not re.match(STRONG, value):
        raise DomainError("The password must have lower-case and upper-case letters and digits.", code="weak_secret",
                          field=field)
    return value


def validate_admin_password(value: str, *, field: str = "admin_password") -> str:
    if not isinstance(value, str) or not _ADMIN.fullmatch(value):
        raise Invalid("8 to 32 letters and digits (what every phone's web interface accepts).", field=field)
    if not re.match(ADMIN_STRONG, value):
        raise DomainError("The admin password must have letters and digits.", code="weak_secret", field=field)
    return value
