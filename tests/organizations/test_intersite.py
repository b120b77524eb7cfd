"""The inter-site routes the dialplan renderer reads: members of the same organization only."""
import pytest

from apps.organizations.selectors import IntersiteRoute, intersite_routes
from apps.pbx.models import Server

pytestmark = pytest.mark.django_db


def test_a_member_routes_to_every_active_member_of_its_organization(org, world, system_actor,
                                                                    django_assert_num_queries):
    from apps.tenants.services import tenant_update

    tenant_update(actor=system_actor, tenant=world.globex, extension_length=3)
    with django_assert_num_queries(1):
        routes = intersite_routes(world.acme)
    assert routes == [IntersiteRoute("21", "acme", 4), IntersiteRoute("22", "globex", 3)]
    assert intersite_routes(world.globex) == routes


def test_a_tenant_outside_any_organization_has_no_routes_and_is_never_a_target(org, world, other_org):
    assert intersite_routes(world.initech) == [IntersiteRoute("31", "initech", 4)]
    assert all(route.tenant_slug != "initech" for route in intersite_routes(world.acme))
    from apps.organizations.services import organization_member_remove

    organization_member_remove(actor=None, member=world.globex.organization_membership)
    assert intersite_routes(world.globex) == []
    assert [r.tenant_slug for r in intersite_routes(world.acme)] == ["acme"]


def test_suspended_members_are_not_routed(org, world, system_actor):
    from apps.tenants.services import tenant_suspend

    tenant_suspend(actor=system_actor, tenant=world.globex)
    assert [r.tenant_slug for r in intersite_routes(world.acme)] == ["acme"]


def test_routes_can_be_limited_to_members_on_one_server(org, world, system_actor):
    from apps.tenants.services import tenant_update

    server = Server.objects.create(name="pbx-1", host="h", sip_address="h", ami_host="h", ami_username="u")
    tenant_update(actor=system_actor, tenant=world.acme, primary_server=server)
    assert [r.tenant_slug for r in intersite_routes(world.acme, server=server)] == ["acme"]


def test_routes_of_many_tenants_come_from_one_query(org, world, other_org, django_assert_num_queries):
    from apps.organizations.selectors import intersite_routes_by_tenant

    tenants = [world.acme, world.globex, world.initech]
    with django_assert_num_queries(1):
        routes = intersite_routes_by_tenant(tenants)
    assert routes == {
        world.acme.pk: [IntersiteRoute("21", "acme", 4), IntersiteRoute("22", "globex", 4)],
        world.globex.pk: [IntersiteRoute("21", "acme", 4), IntersiteRoute("22", "globex", 4)],
        world.initech.pk: [IntersiteRoute("31", "initech", 4)],
    }
    assert intersite_routes_by_tenant([]) == {}
