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


def read(token: str, tenant_id: int) -> int:
    try:
        owner, last_id = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise DomainError("The cursor is not valid (it is the X-Next-Cursor of an earlier pull).",
                          code="invalid_cursor", field="after") from None
    if owner != tenant_id or not isinstance(last_id, int):
        raise DomainError("The cursor belongs to another tenant.", code="invalid_cursor", field="after")
    return last_id
