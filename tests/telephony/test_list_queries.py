"""Every telephony list makes the same number of queries for one row and for many."""
import pytest
from django_tenants.utils import tenant_context

from apps.telephony import services

pytestmark = pytest.mark.django_db
HANGUP = {"type": "hangup"}


def make(resource, actor, tenant, i):
    kw = {"actor": actor, "tenant": tenant}
    if resource == "extensions":
        return services.extension_create(**kw, number=f"{1000 + i}", name=f"E{i}")
    if resource == "dids":
        return services.did_create(**kw, number=f"+1415555{i:04d}", dest=HANGUP)
    if resource == "trunks":
        return services.trunk_create(**kw, name=f"t{i}", host="h", auth_type="ip_auth")
    if resource == "outbound-routes":
        trunk = services.trunk_create(**kw, name=f"rt{i}", host="h", auth_type="ip_auth")
        return services.outbound_route_create(**kw, name=f"r{i}", dial_patterns=["_X."], trunks=[trunk])
    if resource == "queues":
        ext = services.extension_create(**kw, number=f"{2000 + i}", name="m")
        return services.queue_create(**kw, number=f"{5000 + i}", name=f"Q{i}", members=[{"extension": ext.pk}])
    if resource == "agents":
        agent = services.agent_create(**kw, name=f"A{i}", login_code=f"{700 + i}")
        services.queue_create(**kw, number=f"{5000 + i}", name=f"Q{i}", members=[{"agent": agent.pk}])
        return agent
    if resource == "ivrs":
        return services.ivr_create(**kw, name=f"I{i}", options=[{"digit": "1", "dest": HANGUP},
                                                               {"digit": "2", "dest": HANGUP}])
    if resource == "schedules":
        return services.schedule_create(**kw, name=f"S{i}", weekly_ranges=[
            {"day_of_week": 0, "start_time": "09:00", "end_time": "17:00"}],
            holidays=[{"name": "h", "start_date": "2027-01-01"}])
    if resource == "time-conditions":
        schedule = services.schedule_create(**kw, name=f"TS{i}")
        return services.time_condition_create(**kw, name=f"T{i}", schedule=schedule, match=HANGUP, no_match=HANGUP)
    raise AssertionError(resource)


@pytest.mark.parametrize("resource", ["extensions", "dids", "trunks", "outbound-routes", "queues", "agents", "ivrs",
                                      "schedules", "time-conditions"])
def test_list_query_count_is_constant(api, world, system_actor, django_assert_max_num_queries, resource):
    world.acme.max_trunks = 50
    world.acme.save()
    client = api("acme")
    path = f"/api/{resource}/acme/"
    with tenant_context(world.acme):
        make(resource, system_actor, world.acme, 0)
    assert len(client.get(path).json()) == 1  # warm-up
    with django_assert_max_num_queries(10) as one:
        assert len(client.get(path).json()) == 1
    single = len(one)
    with tenant_context(world.acme):
        for i in range(1, 15):
            make(resource, system_actor, world.acme, i)
    with django_assert_max_num_queries(single):
        assert len(client.get(path).json()) == 15
