"""The CDR pull cursor: an opaque, signed token of (tenant, last CDR id).

Clients store the ``X-Next-Cursor`` of a pull and send it back as ``after=``. It is signed, so a
forged or edited one is refused, and it names its tenant, so one tenant's cursor is refused on
another tenant's CDRs (400 ``invalid_cursor`` either way).
"""
from __future__ import annotations

from django.core import signing

from thirdlane.api.errors import DomainError

SALT = "thirdlane.billing.cdr-cursor"


def make(tenant_id: int, last_id: int) -> str:
    return signing.dumps([tenant_id, last_id], salt=SALT)


def _load(token: str, salt: str):
    try:
        return signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError):
        raise DomainError("The cursor is not valid (it is the X-Next-Cursor of an earlier pull).",
                          code="invalid_cursor", field="after") from None


def read(token: str, tenant_id: int) -> int:
    owner, last_id = _load(token, SALT)
    if owner != tenant_id or not isinstance(last_id, int):
        raise DomainError("The cursor belongs to another tenant.", code="invalid_cursor", field="after")
    return last_id


PLATFORM_SALT = "thirdlane.billing.platform-cdr-cursor"


def make_map(owner: str, positions: dict[int, int]) -> str:
    """The platform pull's cursor: the last CDR id per tenant id, for one scope (``owner``)."""
    return signing.dumps([owner, {str(k): int(v) for k, v in positions.items()}], salt=PLATFORM_SALT, compress=True)


def read_map(token: str, owner: str) -> dict[int, int]:
    found, positions = _load(token, PLATFORM_SALT)
    if found != owner or not isinstance(positions, dict):
        raise DomainError("The cursor belongs to another scope.", code="invalid_cursor", field="after")
    try:
        return {int(k): int(v) for k, v in positions.items()}
    except (TypeError, ValueError):
        raise DomainError("The cursor is not valid.", code="invalid_cursor", field="after") from None
