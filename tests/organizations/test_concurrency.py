"""Two writers adding members at once: the organization row lock makes the second see the first."""
import threading

import pytest
from django.db import connection

from apps.organizations.models import OrganizationMember
from thirdlane.api.errors import DomainError


@pytest.mark.django_db(transaction=True)
def test_concurrent_members_with_the_same_site_code_one_wins_the_other_gets_409(committed_world, system_actor):
    from apps.organizations import services

    world = committed_world
    organization = services.organization_create(actor=system_actor, name="Race", slug="race-group",
                                                reseller=world.reseller)
    barrier = threading.Barrier(2)
    outcomes = {}

    def add(tenant):
        try:
            barrier.wait(timeout=10)
            services.organization_member_add(actor=system_actor, organization=organization, tenant=tenant,
                                             site_code="7")
            outcomes[tenant.slug] = "added"
        except DomainError as exc:
            outcomes[tenant.slug] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(t,)) for t in (world.acme, world.globex)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["added", "site_code_taken"], outcomes
    assert OrganizationMember.objects.filter(organization=organization).count() == 1
