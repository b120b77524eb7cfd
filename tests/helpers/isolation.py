"""The multi-tenant checks every tenant-scoped resource must pass, in one place.

    check_tenant_isolation(api, resource="extensions", tenant=world.acme, obj_id=ext.pk,
                           update={"name": "x"}, create={...})

A key of another tenant (same reseller) and a key of another reseller get 404 with
``tenant_not_found`` on list, get, update and delete, and the object is untouched; a read-only
key of the owner cannot write (403 ``read_only_credential``) but can read.
"""
from __future__ import annotations


def _code(response) -> str | None:
    try:
        return response.json().get("code")
    except Exception:
        return None


def check_tenant_isolation(api, *, resource: str, tenant, obj_id, update: dict | None = None,
                           create: dict | None = None, owner_key: str = "acme", other_tenant_key: str = "globex",
                           other_reseller_key: str = "initech", read_only_key: str = "acme_ro",
                           detail_suffix: str = "") -> None:
    base = f"/api/{resource}/{tenant.slug}/"
    detail = f"{base}{obj_id}/{detail_suffix}"
    update = update or {}
    for label in (other_tenant_key, other_reseller_key, "other_reseller"):
        client = api(label)
        for method, path, body in [
            ("get", base, None), ("get", detail, None), ("patch", detail, update), ("put", detail, update),
            ("delete", detail, None), ("post", base, create or {}),
        ]:
            response = getattr(client, method)(path, body) if body is not None else getattr(client, method)(path)
            assert response.status_code == 404, (label, method, path, response.status_code, response.content[:300])
            assert _code(response) == "tenant_not_found", (label, method, path, response.content[:300])
            assert response["Content-Type"].startswith("application/problem+json")
    owner = api(owner_key)
    assert owner.get(detail).status_code == 200, "the owner must still see the object"
    read_only = api(read_only_key)
    assert read_only.get(detail).status_code == 200
    for method, body in [("patch", update), ("delete", None), ("post", create or {})]:
        path = base if method == "post" else detail
        response = getattr(read_only, method)(path, body) if body is not None else getattr(read_only, method)(path)
        assert response.status_code == 403, (method, response.status_code, response.content[:300])
        assert _code(response) == "read_only_credential"
    assert owner.get(detail).status_code == 200, "read-only attempts must not change anything"
