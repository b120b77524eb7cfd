"""Fixtures of the telephony tests: a client per key, and services run in a tenant's schema."""
from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context


@pytest.fixture
def in_tenant():
    """``with in_tenant(world.acme): ...`` — the tenant's schema, always reset afterwards."""
    def use(tenant):
        return tenant_context(tenant)

    yield use
    connection.set_schema_to_public()


def codes(response) -> str:
    return response.json().get("code")


def fields(response) -> dict:
    return response.json().get("errors") or {}
