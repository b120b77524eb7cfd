"""The platform admin for servers, locations and pushes."""
import pytest
from django.test import Client

from apps.pbx.models import ConfigPush, Server
from tests.pbx.golden.demo import host_on, make_server
from tests.pbx.peers import AmiScript, ScriptedAmiServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(world):
    client = Client()
    client.force_login(world.users["admin"])
    return client


@pytest.fixture
def server(world):
    server = make_server(name="pbx-admin-1")
    host_on(server, world.acme, world.globex)
    return server


def test_server_list_shows_hosted_tenant_count(admin_client, server):
    html = admin_client.get("/admin/pbx/server/").content.decode()
    assert "pbx-admin-1" in html and "<td class=\"field-tenant_count\">2</td>" in html


def test_change_page_lists_hosted_tenants_and_never_shows_the_secret(admin_client, server):
    html = admin_client.get(f"/admin/pbx/server/{server.pk}/change/").content.decode()
    assert "hosted tenants" in html.lower() and "acme" in html and "globex" in html
    assert "portal-secret" not in html


def test_saving_without_a_secret_keeps_it_and_emits_an_event(admin_client, server):
    from apps.events.models import OutboxEvent

    data = {"name": "pbx-admin-1", "location": server.location_id, "role": "pbx", "is_active": "on",
            "host": server.host, "sip_address": server.sip_address, "sip_port": 5070, "ami_host": "127.0.0.1",
            "ami_port": 5038, "ami_username": "portal", "ami_secret": "", "config_dir": "/etc/asterisk",
            "tenants-TOTAL_FORMS": 0, "tenants-INITIAL_FORMS": 0}
    response = admin_client.post(f"/admin/pbx/server/{server.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    server.refresh_from_db()
    assert server.sip_port == 5070 and server.ami_secret == "portal-secret"
    assert OutboxEvent.objects.filter(type="server.updated", data__sip_port=5070).exists()


def test_bad_host_is_refused_on_the_field(admin_client, server):
    response = admin_client.post("/admin/pbx/server/add/", {
        "name": "bad one", "role": "pbx", "host": "not a host", "sip_address": "x.example", "sip_port": 5060,
        "ami_host": "127.0.0.1", "ami_port": 5038, "ami_username": "p", "config_dir": "relative/dir",
        "tenants-TOTAL_FORMS": 0, "tenants-INITIAL_FORMS": 0})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"name", "host", "config_dir"} <= set(errors)


def test_push_config_action_queues_a_push(admin_client, server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post("/admin/pbx/server/", {"action": "push_config", "_selected_action": [server.pk]},
                                     follow=True)
    assert response.status_code == 200
    push = ConfigPush.objects.get(server=server)
    assert push.status == "queued" and push.requested_by == "user:admin"
    assert f"push #{push.pk} queued" in response.content.decode()
    assert len(callbacks) == 1


def test_test_ami_connection_action_reports_each_server(admin_client, server):
    with ScriptedAmiServer(AmiScript()) as peer:
        Server.objects.filter(pk=server.pk).update(ami_host=peer.host, ami_port=peer.port)
        response = admin_client.post("/admin/pbx/server/", {"action": "test_ami_connection",
                                                            "_selected_action": [server.pk]}, follow=True)
    html = response.content.decode()
    import re; print(re.findall(r"messagelist.*?</ul>", html, re.S))
    assert "pbx-admin-1: AMI 11.0.0 answered" in html


def test_deleting_a_server_with_tenants_is_refused(admin_client, server):
    response = admin_client.post(f"/admin/pbx/server/{server.pk}/delete/", {"post": "yes"}, follow=True)
    assert Server.objects.filter(pk=server.pk).exists()
    assert "primary server of: acme, globex" in response.content.decode()


def test_resellers_do_not_see_the_server_admin(world, server):
    client = Client()
    client.force_login(world.users["reseller"])
    assert client.get("/admin/pbx/server/").status_code in (302, 403)
    assert client.get("/admin/pbx/configpush/").status_code in (302, 403)
