"""Fixtures of the organization tests: an organization of reseller one with acme and globex as
sites, its API key, and a little telephony (and CRM, once that app has contacts) in each member."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import tenant_context


@dataclass
class Org:
    organization: object
    key: str  # an organization-scoped API key
    ro_key: str


def add_extensions(tenant, rows):
    """rows: (number, name[, email[, enabled]])"""
    from apps.telephony.models import Extension

    with tenant_context(tenant):
        Extension.objects.bulk_create([
            Extension(number=r[0], name=r[1], email=r[2] if len(r) > 2 else "", enabled=r[3] if len(r) > 3 else True)
            for r in rows])


def add_queues(tenant, rows):
    from apps.telephony.models import Queue

    with tenant_context(tenant):
        Queue.objects.bulk_create([Queue(number=n, name=name) for n, name in rows])




@pytest.fixture
def org(world, system_actor) -> Org:
    from apps.accounts.models import Scope
    from apps.accounts.services import api_key_create
    from apps.organizations import services

    organization = services.organization_create(actor=system_actor, name="Acme Group", slug="acme-group",
                                                reseller=world.reseller)
    services.organization_member_add(actor=system_actor, organization=organization, tenant=world.acme,
                                     site_code="21", address="1 Main St", timezone="America/New_York")
    services.organization_member_add(actor=system_actor, organization=organization, tenant=world.globex,
                                     site_code="22")
    key = api_key_create(actor=system_actor, name="org", scope=Scope.ORGANIZATION, organization=organization).key
    ro_key = api_key_create(actor=system_actor, name="org-ro", scope=Scope.ORGANIZATION, organization=organization,
                            read_only=True).key
    return Org(organization, key, ro_key)


@pytest.fixture
def org_api(org):
    from tests.conftest import ApiClient

    def make(read_only: bool = False):
        return ApiClient(org.ro_key if read_only else org.key)

    return make


@pytest.fixture
def other_org(world, system_actor):
    """An organization of reseller two, with initech."""
    from apps.organizations import services

    organization = services.organization_create(actor=system_actor, name="Initech Holdings", slug="initech-holdings",
                                                reseller=world.other_reseller)
    services.organization_member_add(actor=system_actor, organization=organization, tenant=world.initech,
                                     site_code="31")
    return organization
