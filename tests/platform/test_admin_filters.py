"""The admin's sidebar filters keep to the user's scope (issue #14).

"By reseller" on tenants, API keys, webhook subscriptions and users used to list every reseller
with its id to a reseller admin and to a tenant admin. Every registered admin with a filter on a
relation (reseller, tenant, server, location, ...) is checked here for each role: the choices it
offers are among the objects the user's own rows point at, and never the foreign objects of
``test_admin_scope.foreign_objects`` (the other reseller, its tenant, the platform's server).
"""
from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.test import Client, RequestFactory

from apps.accounts.models import User
from tests.platform.test_admin_scope import foreign_objects

pytestmark = pytest.mark.django_db

ROLES = [("reseller", "pw-reseller-1"), ("acme-admin", "pw-acme-1")]


def relation_filters(model_admin, request) -> list[str]:
    paths = []
    for item in model_admin.get_list_filter(request):
        path = item[0] if isinstance(item, (tuple, list)) else item
        if not isinstance(path, str):
            continue
        field = get_fields_from_path(model_admin.model, path)[-1]
        if getattr(field, "is_relation", False):
            paths.append(path)
    return paths


def offered_ids(html: str, path: str) -> set[int]:
    return {int(i) for i in re.findall(rf"[?&;]{re.escape(path)}__\w+__exact=(\d+)", html)}


def admins_with_relation_filters(request):
    found = []
    for model, model_admin in admin.site._registry.items():
        paths = relation_filters(model_admin, request)
        if paths:
            found.append((model, model_admin, paths))
    return found


def test_the_admins_named_in_the_issue_have_reseller_filters(world):
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username="admin")
    labels = {model._meta.label for model, _, paths in admins_with_relation_filters(request) if "reseller" in paths}
    assert {"tenants.Tenant", "accounts.ApiKey", "webhooks.Subscription", "accounts.User"} <= labels


@pytest.mark.parametrize("username,password", ROLES)
def test_relation_filters_offer_only_what_the_users_scope_holds(world, username, password):
    foreign = foreign_objects(world)
    foreign_ids = {type(obj): {obj.pk} for obj in foreign.values() if obj is not None}
    foreign_ids[type(world.other_reseller)] = {world.other_reseller.pk}
    foreign_ids.setdefault(type(world.initech), set()).add(world.initech.pk)
    client = Client()
    assert client.login(username=username, password=password)
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username=username)
    checked = 0
    for model, model_admin, paths in admins_with_relation_filters(request):
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = client.get(url)
        if response.status_code == 403:
            continue  # a page the role may not use at all
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        assert world.other_reseller.name not in html, url
        rows = model_admin.get_queryset(request)
        for path in paths:
            related = get_fields_from_path(model, path)[-1].related_model
            held = {pk for pk in rows.values_list(path, flat=True) if pk is not None}
            offered = offered_ids(html, path)
            assert offered <= held, (url, path, offered - held)
            assert not offered & foreign_ids.get(related, set()), (url, path)
            checked += 1
    assert checked >= 4


def test_the_system_admin_still_filters_by_any_reseller(world):
    from apps.tenants.models import Reseller

    client = Client()
    assert client.login(username="admin", password="pw-admin-1")
    html = client.get("/admin/tenants/tenant/").content.decode()
    assert offered_ids(html, "reseller") == set(Reseller.objects.filter(tenants__isnull=False)
                                                 .values_list("pk", flat=True))
    assert world.other_reseller.name in html
