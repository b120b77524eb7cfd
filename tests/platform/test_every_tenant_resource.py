"""The cross-tenant checks, run for every entry of the tenant router: a resource added later is
checked without anyone writing a test for it.

For each registered ``/api/<resource>/<tenant>/...`` route, keys of another tenant of the same
reseller, of another reseller's tenant and of another reseller get 404 ``tenant_not_found`` on the
list, an item, every write and every action, before anything is looked up or changed; the owner's
key lists without error.
"""
from __future__ import annotations

import re

import pytest

import thirdlane.api.urls  # noqa: F401 (the apps register their routes when the URLconf loads)
from thirdlane.api.routers import tenant_router


def _path(prefix: str, tenant: str) -> str:
    path = re.sub(r"\(\?P<tenant>[^)]*\)", tenant, prefix)
    return "/api/" + re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).rstrip("/") + "/"


ROUTES = [(prefix, viewset) for prefix, viewset, _ in tenant_router.registry]


def test_the_router_has_the_resources():
    assert len(ROUTES) >= 25


@pytest.mark.parametrize("prefix,viewset", ROUTES, ids=[p.split("/")[0] + ":" + v.__name__ for p, v in ROUTES])
def test_other_tenants_get_tenant_not_found_everywhere(api, world, prefix, viewset):
    from apps.events.models import OutboxEvent

    base = _path(prefix, "acme")
    actions = [a.url_path for a in viewset.get_extra_actions()]
    targets = [("get", base), ("post", base)]
    # A resource without an id (the contact-center overview) has no /<id>/ route at all.
    offers = getattr(viewset, "offers", lambda action: True)
    if any(offers(action) for action in ("retrieve", "update", "partial_update", "destroy")):
        targets += [("get", f"{base}1/"), ("patch", f"{base}1/"), ("put", f"{base}1/"), ("delete", f"{base}1/")]
    for extra in viewset.get_extra_actions():
        path = f"{base}1/{extra.url_path}/" if extra.detail else f"{base}{extra.url_path}/"
        targets += [(method.lower(), path) for method in extra.mapping]
    events = OutboxEvent.objects.count()
    for label in ("globex", "initech", "other_reseller"):
        client = api(label)
        for method, path in targets:
            response = getattr(client, method)(path, {}) if method in ("post", "put", "patch") \
                else getattr(client, method)(path)
            if response.status_code == 405:
                continue  # the method is not offered on this path at all (the same for every caller)
            assert response.status_code == 404, (label, method, path, response.status_code, actions)
            assert response.json()["code"] == "tenant_not_found", (label, method, path)
    assert OutboxEvent.objects.count() == events
    owner = api("acme").get(base)
    nested = prefix.count("(?P<") > 1  # e.g. a webhook's deliveries: parent 1 may not exist
    assert owner.status_code == 200 or (nested and owner.json()["code"] == "not_found"), (base, owner.status_code)
