"""Contact center API and the AMI actions its agent actions send (against a peer replaying the
recorded Asterisk 22 queue session)."""
import pytest
from django_tenants.utils import tenant_context

from apps.pbx.tasks import agent_queue_action
from apps.telephony import services as tel
from apps.telephony.models import Agent
from tests.helpers.isolation import check_tenant_isolation
from tests.pbx.golden.demo import ext, host_on, make_server
from tests.pbx.peers import AmiReplayServer
from tests.pbx.test_config_transcripts import sliced

pytestmark = pytest.mark.django_db

# The recording's queue is "acme-sales"; ours are named <tenant>-<number>.
RENAME = {b"acme-sales": b"acme-2000"}


@pytest.fixture
def cc(world, system_actor):
    """acme: extension 1001, agent "Acme 1001" in queue 2000 (penalty 1), as in the recording."""
    server = make_server(name="pbx-cc")
    host_on(server, world.acme)
    world.acme.refresh_from_db()
    e1001 = ext(system_actor, world.acme, "1001", "Acme 1001")
    e1002 = ext(system_actor, world.acme, "1002", "Acme 1002")
    agent = tel.agent_create(actor=system_actor, tenant=world.acme, name="Acme 1001", login_code="5001",
                             extension=e1001.pk)
    loose = tel.agent_create(actor=system_actor, tenant=world.acme, name="No Phone", login_code="5002")
    queue = tel.queue_create(actor=system_actor, tenant=world.acme, number="2000", name="Sales",
                             members=[{"extension": e1002.pk, "penalty": 0}, {"agent": agent.pk, "penalty": 1}])
    return {"server": server, "agent": agent, "loose": loose, "queue": queue}


def act(api, agent, action, key="acme", **body):
    return api(key).post(f"/api/contact-center/acme/agents/{agent.pk}/{action}", body or None)


def run_task(world, cc, peer, action, reason=""):
    from apps.pbx.models import Server

    Server.objects.filter(pk=cc["server"].pk).update(ami_host=peer.host, ami_port=peer.port)
    result = agent_queue_action.apply(args=[world.acme.pk, cc["agent"].pk, action, reason]).get()
    peer.wait_idle()
    assert peer.errors == [] and peer.finished
    return result


def test_login_sets_the_state_and_sends_queue_add(api, world, cc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = act(api, cc["agent"], "login")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "logged_in" and body["interface"] == "PJSIP/1001-acme"
    assert body["queues"] == [{"id": cc["queue"].pk, "number": "2000", "name": "Sales", "asterisk_queue": "acme-2000",
                               "penalty": 1}]
    assert len(callbacks) == 1
    with AmiReplayServer(sliced("queue", ["qadd-1"], rename=RENAME)) as peer:
        assert run_task(world, cc, peer, "login") == ["acme-2000:ok"]


def test_pause_with_reason_then_unpause_send_queue_pause(api, world, cc):
    act(api, cc["agent"], "login")
    response = act(api, cc["agent"], "pause", reason="lunch")
    assert response.status_code == 202 and response.json()["state"] == "paused"
    assert response.json()["pause_reason"] == "lunch"
    with AmiReplayServer(sliced("queue", ["qpause-1"], rename=RENAME), chunking="bytes") as peer:
        assert run_task(world, cc, peer, "pause", "lunch") == ["acme-2000:ok"]
    assert act(api, cc["agent"], "unpause").json()["state"] == "logged_in"
    with AmiReplayServer(sliced("queue", ["qpause-2"], rename=RENAME)) as peer:
        assert run_task(world, cc, peer, "unpause") == ["acme-2000:ok"]


def test_logout_sends_queue_remove_and_not_there_is_not_an_error(api, world, cc):
    act(api, cc["agent"], "login")
    assert act(api, cc["agent"], "logout").json()["state"] == "logged_out"
    with AmiReplayServer(sliced("queue", ["qrem-1"], rename=RENAME)) as peer:
        assert run_task(world, cc, peer, "logout") == ["acme-2000:ok"]
    # The recorded second QueueRemove answers "Unable to remove interface: Not there".
    with AmiReplayServer(sliced("queue", ["qrem-2"], rename=RENAME)) as peer:
        assert run_task(world, cc, peer, "logout") == ["acme-2000:already"]


def test_a_stale_action_is_not_sent(api, world, cc):
    act(api, cc["agent"], "login")
    act(api, cc["agent"], "logout")
    with AmiReplayServer(sliced("queue", [], rename=RENAME)) as peer:
        from apps.pbx.models import Server

        Server.objects.filter(pk=cc["server"].pk).update(ami_host=peer.host, ami_port=peer.port)
        assert agent_queue_action.apply(args=[world.acme.pk, cc["agent"].pk, "login", ""]).get() == []
        assert peer.connections == 0


def test_impossible_transitions_are_409(api, world, cc):
    response = act(api, cc["agent"], "pause")
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"
    assert act(api, cc["agent"], "logout").status_code == 409
    response = act(api, cc["loose"], "login")
    assert response.status_code == 409 and response.json()["code"] == "agent_has_no_extension"
    act(api, cc["agent"], "login")
    assert act(api, cc["agent"], "login").json()["code"] == "invalid_state"
    response = act(api, cc["agent"], "pause", reason="x" * 101)
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    with tenant_context(world.acme):
        assert Agent.objects.get(pk=cc["agent"].pk).state == "logged_in"


def test_login_needs_a_primary_server(api, world, cc):
    world.acme.primary_server = None
    world.acme.save(update_fields=["primary_server"])
    response = act(api, cc["agent"], "login")
    assert response.status_code == 409 and response.json()["code"] == "no_primary_server"


def test_queue_summary_shows_members_and_agent_states(api, world, cc):
    act(api, cc["agent"], "login")
    act(api, cc["agent"], "pause", reason="lunch")
    response = api("acme").get("/api/contact-center/acme/queues")
    assert response.status_code == 200 and response["X-Total-Count"] == "1"
    queue = response.json()[0]
    assert queue["asterisk_queue"] == "acme-2000"
    assert [(m["type"], m["name"], m["interface"], m["state"]) for m in queue["members"]] == [
        ("extension", "Acme 1002", "PJSIP/1002-acme", "static"),
        ("agent", "Acme 1001", "PJSIP/1001-acme", "paused")]
    assert queue["stats"] == {"members": 2, "static_members": 1, "agents_logged_in": 0, "agents_paused": 1,
                              "agents_logged_out": 0}
    agents = api("acme").get("/api/contact-center/acme/agents?state=paused").json()
    assert [a["name"] for a in agents] == ["Acme 1001"]
    overview = api("acme").get("/api/contact-center/acme/").json()
    assert overview == {"queues": 1, "agents": {"logged_in": 0, "logged_out": 1, "paused": 1},
                        "primary_server": "pbx-cc"}


def test_summaries_make_the_same_number_of_queries_for_more_queues(api, world, cc, system_actor,
                                                                   django_assert_max_num_queries):
    client = api("acme")
    client.get("/api/contact-center/acme/queues")
    with django_assert_max_num_queries(16) as small:
        client.get("/api/contact-center/acme/queues")
        client.get("/api/contact-center/acme/agents")
    for i in range(10):
        e = ext(system_actor, world.acme, f"11{i:02d}", f"Agent {i}")
        a = tel.agent_create(actor=system_actor, tenant=world.acme, name=f"Agent {i}", login_code=f"60{i:02d}",
                             extension=e.pk)
        tel.queue_create(actor=system_actor, tenant=world.acme, number=f"21{i:02d}", name=f"Q{i}",
                         members=[{"agent": a.pk}, {"extension": e.pk}])
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/contact-center/acme/queues").json()) == 11
        assert len(client.get("/api/contact-center/acme/agents").json()) == 12


def test_contact_center_is_tenant_isolated(api, world, cc):
    check_tenant_isolation(api, resource="contact-center", tenant=world.acme, obj_id=f"agents/{cc['agent'].pk}")
    check_tenant_isolation(api, resource="contact-center", tenant=world.acme, obj_id=f"queues/{cc['queue'].pk}")
    for label in ("globex", "initech", "other_reseller"):
        assert act(api, cc["agent"], "login", key=label).status_code == 404
    assert act(api, cc["agent"], "login", key="acme_ro").status_code == 403


def test_unreachable_server_is_retried_then_given_up_without_losing_the_state(api, world, cc, settings, caplog):
    import socket

    from apps.pbx.models import Server

    settings.PBX_AGENT_ACTION_MAX_RETRIES = 2
    settings.PBX_AMI_TIMEOUT = 2.0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Server.objects.filter(pk=cc["server"].pk).update(ami_host="127.0.0.1", ami_port=port)
    act(api, cc["agent"], "login")
    result = agent_queue_action.apply(args=[world.acme.pk, cc["agent"].pk, "login", ""])
    assert result.get() == [] and result.successful()
    assert "unreachable, gave up" in caplog.text
    with tenant_context(world.acme):
        assert Agent.objects.get(pk=cc["agent"].pk).state == "logged_in"
