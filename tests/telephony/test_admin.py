"""The tenant admin (/t/<tenant>/admin/) for telephony: pages load for a reseller, writes go
through the services."""
import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.telephony import services
from apps.telephony.models import Extension, OutboundRoute, Queue, QueueMember, Trunk

pytestmark = pytest.mark.django_db
MODELS = ["extension", "did", "trunk", "outboundroute", "queue", "agent", "ivr", "schedule", "timecondition"]


@pytest.fixture
def reseller_client(world):
    client = Client()
    assert client.login(username="reseller", password="pw-reseller-1")
    return client


@pytest.fixture
def populated(world, system_actor):
    kw = {"actor": system_actor, "tenant": world.acme}
    with tenant_context(world.acme):
        ext = services.extension_create(**kw, number="1001", name="Alice")
        trunk = services.trunk_create(**kw, name="carrier", host="h", auth_type="ip_auth")
        services.outbound_route_create(**kw, name="US", dial_patterns=["_1NXXNXXXXXX"], trunks=[trunk])
        agent = services.agent_create(**kw, name="Bob", login_code="77", extension=ext)
        queue = services.queue_create(**kw, number="5000", name="Support", members=[{"agent": agent.pk}])
        ivr = services.ivr_create(**kw, name="Main",
                                  options=[{"digit": "1", "dest": {"type": "queue", "id": queue.pk}}])
        schedule = services.schedule_create(**kw, name="Hours", weekly_ranges=[
            {"day_of_week": 0, "start_time": "09:00", "end_time": "17:00"}])
        tc = services.time_condition_create(**kw, name="Open?", schedule=schedule, match={"type": "ivr", "id": ivr.pk},
                                            no_match={"type": "hangup"})
        services.did_create(**kw, number="+14155550100", dest={"type": "time_condition", "id": tc.pk})
    return {"extension": ext, "queue": queue, "tc": tc}


@pytest.mark.parametrize("model", MODELS)
def test_changelist_add_and_change_pages_load_for_a_reseller(reseller_client, populated, world, model):
    from django.apps import apps

    base = f"/t/acme/admin/telephony/{model}/"
    response = reseller_client.get(base)
    assert response.status_code == 200, response.content[:500]
    assert reseller_client.get(f"{base}add/").status_code == 200
    assert reseller_client.get(f"{base}?q=a").status_code == 200
    with tenant_context(world.acme):
        pk = apps.get_model("telephony", model).objects.values_list("pk", flat=True).first()
    assert reseller_client.get(f"{base}{pk}/change/").status_code == 200


def test_extension_pages_never_show_the_secret(reseller_client, populated, world):
    with tenant_context(world.acme):
        secret = Extension.objects.get(number="1001").sip_secret
    page = reseller_client.get(f"/t/acme/admin/telephony/extension/{populated['extension'].pk}/change/")
    assert secret not in page.content.decode()


def test_import_and_export_pages_load(reseller_client, populated):
    for model in ("extension", "did"):
        assert reseller_client.get(f"/t/acme/admin/telephony/{model}/import/").status_code == 200
        assert reseller_client.get(f"/t/acme/admin/telephony/{model}/export/").status_code == 200


def test_other_resellers_user_gets_404(world, populated):
    client = Client()
    client.login(username="other", password="pw-other-1")
    assert client.get("/t/acme/admin/telephony/extension/").status_code == 404


def _extension_form(**overrides):
    data = {"number": "1002", "name": "Carol", "email": "", "location": "", "enabled": "on", "sip_secret": "",
            "codecs": "ulaw,alaw", "max_contacts": "1", "caller_id_name": "", "caller_id_number": "", "ring_time": "20",
            "forward_always": "", "forward_busy": "", "forward_no_answer": "", "voicemail_enabled": "on",
            "voicemail_pin": "", "recording_inbound": "never", "recording_outbound": "never"}
    data.update(overrides)
    return data


def test_adding_an_extension_in_the_admin_goes_through_the_service(reseller_client, populated, world):
    response = reseller_client.post("/t/acme/admin/telephony/extension/add/", _extension_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(world.acme):
        ext = Extension.objects.get(number="1002")
        assert len(ext.sip_secret) >= 20
    event = OutboxEvent.objects.get(type="config.extension.created", data__number="1002")
    assert event.data["phone_username"] == "1002-acme"


def test_admin_refuses_what_the_service_refuses(reseller_client, populated, world):
    response = reseller_client.post("/t/acme/admin/telephony/extension/add/",
                                    _extension_form(number="5000"), follow=True)
    assert "already used by queue 5000" in response.content.decode()
    response = reseller_client.post("/t/acme/admin/telephony/extension/add/",
                                    _extension_form(sip_secret="weakweak"), follow=True)
    assert "at least 12 characters" in response.content.decode()
    with tenant_context(world.acme):
        assert not Extension.objects.filter(number__in=["5000", "1002"]).exists()


def test_deleting_an_object_in_use_shows_who_uses_it(reseller_client, populated, world):
    response = reseller_client.post(f"/t/acme/admin/telephony/queue/{populated['queue'].pk}/delete/",
                                    {"post": "yes"}, follow=True)
    assert "IVR Main option 1" in response.content.decode()
    with tenant_context(world.acme):
        assert Queue.objects.filter(pk=populated["queue"].pk).exists()


def queue_form(queue, member, *, strategy: str, second: dict) -> dict:
    """The queue's change form as posted: its fields, the existing member row and a second row."""
    return {"number": "5000", "name": "Support", "strategy": strategy, "ring_timeout": "15", "wrapup_time": "0",
            "max_wait": "300", "max_callers": "0", "music_on_hold": "default", "announce_frequency": "0",
            "join_empty": "on", "fallback_type": "", "fallback_id": "", "fallback_number": "",
            "members-TOTAL_FORMS": "2", "members-INITIAL_FORMS": "1", "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-id": str(member.pk), "members-0-queue": str(queue.pk), "members-0-agent": str(member.agent_id),
            "members-0-extension": "", "members-0-penalty": "0",
            "members-1-queue": str(queue.pk), "members-1-extension": second["extension"],
            "members-1-agent": second["agent"], "members-1-penalty": "3"}


def test_editing_queue_members_inline_emits_the_final_state(reseller_client, populated, world):
    queue = populated["queue"]
    with tenant_context(world.acme):
        member = QueueMember.objects.get(queue=queue)
    ext = populated["extension"]
    data = queue_form(queue, member, strategy="linear", second={"extension": str(ext.pk), "agent": ""})
    events, entries = OutboxEvent.objects.count(), AuditEntry.objects.count()
    response = reseller_client.post(f"/t/acme/admin/telephony/queue/{queue.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # One service call for the queue and its rows: one event with the final state, one audit entry.
    [event] = OutboxEvent.objects.order_by("id")[events:]
    assert event.type == "config.queue.updated" and event.data["strategy"] == "linear"
    assert {m["penalty"] for m in event.data["members"]} == {0, 3}
    [entry] = AuditEntry.objects.order_by("id")[entries:]
    assert entry.action == "update" and entry.source == "admin" and entry.after == {"strategy": "linear"}


def test_inline_rows_are_validated_by_the_service(reseller_client, populated, world):
    queue = populated["queue"]
    with tenant_context(world.acme):
        member = QueueMember.objects.get(queue=queue)
    # the same agent twice: the service refuses it
    data = queue_form(queue, member, strategy="ringall", second={"extension": "", "agent": str(member.agent_id)})
    response = reseller_client.post(f"/t/acme/admin/telephony/queue/{queue.pk}/change/", data, follow=True)
    assert "listed twice" in response.content.decode() or "already exists" in response.content.decode()
    with tenant_context(world.acme):
        assert QueueMember.objects.filter(queue=queue).count() == 1


def test_time_condition_override_action(reseller_client, populated, world):
    tc = populated["tc"]
    response = reseller_client.post("/t/acme/admin/telephony/timecondition/",
                                    {"action": "force_open", "_selected_action": [str(tc.pk)]})
    assert response.status_code == 302
    with tenant_context(world.acme):
        tc.refresh_from_db()
    assert tc.override == "force_open"



def _inline_management(prefix, total, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_creating_a_route_with_inline_trunks(reseller_client, populated, world):
    with tenant_context(world.acme):
        trunk = services.trunk_create(actor=None, tenant=world.acme, name="second", host="h2", auth_type="ip_auth")
        first = Trunk.objects.get(name="carrier")
    data = {"name": "Intl", "priority": "50", "dial_patterns": "_011.", "strip_digits": "0", "prepend": "",
            "emergency_numbers": "", "enabled": "on", **_inline_management("route_trunks", 2),
            "route_trunks-0-trunk": str(trunk.pk), "route_trunks-0-order": "0",
            "route_trunks-1-trunk": str(first.pk), "route_trunks-1-order": "1"}
    response = reseller_client.post("/t/acme/admin/telephony/outboundroute/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(world.acme):
        route = OutboundRoute.objects.get(name="Intl")
        assert [rt.trunk_id for rt in route.route_trunks.all()] == [trunk.pk, first.pk]
    response = reseller_client.post("/t/acme/admin/telephony/outboundroute/add/",
                                    {**data, "name": "Bad", "dial_patterns": "_1NXX-XXX"}, follow=True)
    assert "invalid" in response.content.decode().lower() or "_1NXX-XXX" in response.content.decode()


def test_ivr_option_inline_validates_its_destination(reseller_client, populated, world):
    data = {"name": "Second", "number": "", "greeting_recording": "", "greeting_text": "", "timeout": "5",
            "repeat_count": "2", "invalid_type": "hangup", "invalid_id": "", "invalid_number": "",
            "timeout_dest_type": "hangup", "timeout_dest_id": "", "timeout_dest_number": "",
            **_inline_management("options", 1),
            "options-0-digit": "1", "options-0-dest_type": "queue", "options-0-dest_id": "999999",
            "options-0-dest_number": ""}
    response = reseller_client.post("/t/acme/admin/telephony/ivr/add/", data)
    assert response.status_code == 200 and "No queue with id 999999" in response.content.decode()
    data["options-0-dest_id"] = str(populated["queue"].pk)
    response = reseller_client.post("/t/acme/admin/telephony/ivr/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_csv_import_through_the_admin_creates_extensions_with_events(reseller_client, populated, world):
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    page = reseller_client.get("/t/acme/admin/telephony/extension/import/").content.decode()
    csv_value = re.search(r'<option value="(\d+)"[^>]*>csv</option>', page).group(1)
    upload = SimpleUploadedFile("ext.csv", b"number,name,email\n3001,Dana,dana@example.com\n3002,Eli,\n",
                                content_type="text/csv")
    response = reseller_client.post("/t/acme/admin/telephony/extension/import/",
                                    {"import_file": upload, "format": csv_value, "resource": "0"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "3001" in body and "errors" not in body.lower().split("confirm")[0][-200:]
    fields = dict(re.findall(r'name="(import_file_name|original_file_name|format|resource)"[^>]*value="([^"]*)"',
                             body))
    response = reseller_client.post("/t/acme/admin/telephony/extension/process_import/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(world.acme):
        assert set(Extension.objects.filter(number__startswith="300").values_list("name", flat=True)) == {"Dana",
                                                                                                         "Eli"}
    assert OutboxEvent.objects.filter(type="config.extension.created", data__number="3001").exists()


def test_csv_import_with_a_bad_row_is_refused_in_the_admin(reseller_client, populated, world):
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    page = reseller_client.get("/t/acme/admin/telephony/extension/import/").content.decode()
    csv_value = re.search(r'<option value="(\d+)"[^>]*>csv</option>', page).group(1)
    upload = SimpleUploadedFile("ext.csv", b"number,name\n3001,Dana\n5000,Clash\n", content_type="text/csv")
    response = reseller_client.post("/t/acme/admin/telephony/extension/import/",
                                    {"import_file": upload, "format": csv_value, "resource": "0"})
    body = response.content.decode()
    assert "already used by queue 5000" in body
    assert "process_import" not in body
    with tenant_context(world.acme):
        assert not Extension.objects.filter(number="3001").exists()


def test_csv_export_through_the_admin_has_no_secrets(reseller_client, populated, world):
    import re

    with tenant_context(world.acme):
        secret = Extension.objects.get(number="1001").sip_secret
    page = reseller_client.get("/t/acme/admin/telephony/extension/export/").content.decode()
    csv_value = re.search(r'<option value="(\d+)"[^>]*>csv</option>', page).group(1)
    checkboxes = re.findall(r'type="checkbox" name="([^"]+)"', page)
    assert not any("secret" in name or "pin" in name for name in checkboxes)
    data = {"format": csv_value, "resource": "0", **{name: "on" for name in checkboxes}}
    response = reseller_client.post("/t/acme/admin/telephony/extension/export/", data)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.startswith("number,name") and "1001,Alice" in text and secret not in text
