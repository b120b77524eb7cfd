"""Extensions over the API: CRUD, number plan, secrets, limits, events, in-use and isolation."""
import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.pbx.models import Location, Server
from apps.telephony.models import Extension
from tests.helpers.isolation import check_tenant_isolation
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
BASE = "/api/extensions/acme/"
SECRET = "Str0ng-Secret-xyz"


def create(api, **body):
    body = {"number": "1001", "name": "Alice", **body}
    return api("acme").post(BASE, body)


def test_create_returns_the_extension_without_any_secret(api, world):
    response = create(api, email="alice@example.com", sip_secret=SECRET, voicemail_pin="482913")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "1001" and body["phone_username"] == "1001-acme"
    assert "sip_secret" not in body and "voicemail_pin" not in body
    assert SECRET not in response.content.decode()
    with tenant_context(world.acme):
        ext = Extension.objects.get(pk=body["id"])
        assert ext.sip_secret == SECRET and ext.voicemail_pin == "482913"


def test_a_strong_secret_is_generated_when_none_is_given(api, world):
    body = create(api).json()
    with tenant_context(world.acme):
        secret = Extension.objects.get(pk=body["id"]).sip_secret
    assert len(secret) >= 20
    assert any(c.isupper() for c in secret) and any(c.islower() for c in secret) and any(c.isdigit() for c in secret)


def test_secret_is_stored_encrypted(api, world):
    body = create(api, sip_secret=SECRET).json()
    from django.db import connection

    with tenant_context(world.acme), connection.cursor() as cursor:
        cursor.execute("SELECT sip_secret FROM telephony_extension WHERE id = %s", [body["id"]])
        raw = cursor.fetchone()[0]
    assert raw.startswith("enc1:") and SECRET not in raw


@pytest.mark.parametrize("secret", ["short1A", "alllowercaseletters", "ALLUPPER12345678", "Abcdef1001xyzQ"])
def test_weak_secrets_are_refused(api, world, secret):
    response = create(api, sip_secret=secret)
    assert response.status_code == 400
    assert codes(response) == "weak_secret"
    assert "sip_secret" in fields(response)


def test_number_must_have_the_tenants_extension_length(api, world):
    response = create(api, number="101")
    assert response.status_code == 400 and codes(response) == "invalid_number"
    assert fields(response)["number"][0]["code"] == "invalid_number"
    assert create(api, number="12a4").status_code == 400


def test_duplicate_number_is_a_conflict_across_extensions_queues_and_ivrs(api, world):
    assert create(api).status_code == 201
    response = create(api, name="Again")
    assert response.status_code == 409 and codes(response) == "duplicate_number"
    assert "number" in fields(response)
    assert api("acme").post("/api/queues/acme/", {"number": "5000", "name": "Q"}).status_code == 201
    response = create(api, number="5000")
    assert response.status_code == 409 and codes(response) == "duplicate_number"
    assert "queue 5000" in response.json()["detail"]
    response = api("acme").post("/api/ivrs/acme/", {"number": "1001", "name": "Menu"})
    assert response.status_code == 409 and codes(response) == "duplicate_number"


def test_same_number_in_another_tenant_is_fine(api, world):
    assert create(api).status_code == 201
    assert api("globex").post("/api/extensions/globex/", {"number": "1001", "name": "Other"}).status_code == 201


def test_extension_limit_of_the_tenant(api, world):
    world.acme.max_extensions = 1
    world.acme.save()
    assert create(api).status_code == 201
    response = create(api, number="1002")
    assert response.status_code == 422 and codes(response) == "limit_exceeded"


def test_unknown_codec_is_refused(api, world):
    response = create(api, codecs=["ulaw", "speex"])
    assert response.status_code == 400 and codes(response) == "invalid_codec"
    assert create(api, codecs=["opus", "g722"]).json()["codecs"] == ["opus", "g722"]


def test_location_is_given_by_code(api, world):
    Location.objects.create(name="Paris", code="par")
    body = create(api, location="par").json()
    assert body["location"] == "par"
    response = create(api, number="1002", location="nowhere")
    assert response.status_code == 400 and "location" in fields(response)


def test_update_and_delete(api, world):
    ext_id = create(api).json()["id"]
    response = api("acme").patch(f"{BASE}{ext_id}/", {"name": "Alice B", "dnd": True, "sip_secret": SECRET})
    assert response.status_code == 200 and response.json()["name"] == "Alice B" and response.json()["dnd"] is True
    response = api("acme").patch(f"{BASE}{ext_id}/", {"number": "1009"})
    assert response.json()["phone_username"] == "1009-acme"
    assert api("acme").delete(f"{BASE}{ext_id}/").status_code == 204
    assert api("acme").get(f"{BASE}{ext_id}/").status_code == 404


def test_events_carry_phone_username_location_and_primary_server_and_no_secret(api, world):
    location = Location.objects.create(name="Paris", code="par")
    server = Server.objects.create(name="pbx-eu-1", host="h", sip_address="s", ami_host="a", ami_username="u",
                                   location=location)
    world.acme.primary_server = server
    world.acme.save()
    ext_id = create(api, location="par", sip_secret=SECRET, voicemail_pin="482913").json()["id"]
    api("acme").patch(f"{BASE}{ext_id}/", {"name": "Alice B", "sip_secret": "An0ther-Secret-q"})
    api("acme").delete(f"{BASE}{ext_id}/")
    events = list(OutboxEvent.objects.filter(tenant_id=world.acme.pk, type__startswith="config.extension.")
                  .order_by("id"))
    assert [e.type for e in events] == ["config.extension.created", "config.extension.updated",
                                        "config.extension.deleted"]
    for event in events:
        assert event.system is True
        assert event.data["phone_username"] == "1001-acme"
        assert event.data["location"] == "par" and event.data["primary_server"] == "pbx-eu-1"
        text = str(event.data)
        assert SECRET not in text and "An0ther-Secret-q" not in text and "482913" not in text
        assert "sip_secret" not in event.data and "voicemail_pin" not in event.data


def test_extension_used_by_a_queue_cannot_be_deleted_and_the_user_is_named(api, world):
    ext_id = create(api).json()["id"]
    api("acme").post("/api/queues/acme/", {"number": "5000", "name": "Support", "members": [{"extension": ext_id}]})
    api("acme").post("/api/dids/acme/", {"number": "+14155550100",
                                         "destination": {"type": "voicemail", "id": ext_id}})
    response = api("acme").delete(f"{BASE}{ext_id}/")
    assert response.status_code == 409 and codes(response) == "in_use"
    assert response.json()["used_by"] == ["DID +14155550100", "queue 5000 Support"]
    assert "Support" in response.json()["detail"]


def test_list_filters_search_ordering_and_total(api, world):
    for number, name in [("1001", "Alice"), ("1002", "Bob"), ("1003", "Carol")]:
        create(api, number=number, name=name)
    response = api("acme").get(f"{BASE}?search=bob")
    assert [e["name"] for e in response.json()] == ["Bob"] and response["X-Total-Count"] == "1"
    response = api("acme").get(f"{BASE}?ordering=-number&limit=2")
    assert [e["number"] for e in response.json()] == ["1003", "1002"] and response["X-Total-Count"] == "3"
    assert api("acme").get(f"{BASE}?number_min=1002").json()[0]["number"] == "1002"
    assert codes(api("acme").get(f"{BASE}?colour=red")) == "unknown_filter"


def test_list_query_count_does_not_grow_with_rows(api, world, django_assert_max_num_queries):
    Location.objects.create(name="Paris", code="par")
    create(api, location="par")
    client = api("acme")
    client.get(BASE)  # warm caches (key look-up, content types)
    with django_assert_max_num_queries(8) as one:
        assert len(client.get(BASE).json()) == 1
    single = len(one)
    api("acme").post(f"{BASE}bulk/", {"start": "2000", "end": "2039", "defaults": {"location": "par"}})
    with django_assert_max_num_queries(single):
        assert len(client.get(BASE).json()) == 41


def test_tenant_isolation(api, world):
    ext_id = create(api).json()["id"]
    check_tenant_isolation(api, resource="extensions", tenant=world.acme, obj_id=ext_id, update={"name": "x"},
                           create={"number": "1005", "name": "x"})


def test_renumbering_tells_the_previous_phone_username(api, world):
    ext_id = create(api).json()["id"]
    api("acme").patch(f"{BASE}{ext_id}/", {"number": "1009"})
    event = OutboxEvent.objects.get(type="config.extension.updated")
    assert event.data["phone_username"] == "1009-acme" and event.data["previous_phone_username"] == "1001-acme"


def test_voicemail_destination_needs_voicemail_on(api, world):
    ext_id = create(api, voicemail_enabled=False).json()["id"]
    response = api("acme").post("/api/dids/acme/", {"number": "+14155550100",
                                                    "destination": {"type": "voicemail", "id": ext_id}})
    assert response.status_code == 400 and codes(response) == "invalid_destination"


def test_location_users_counts_extensions_per_tenant(api, world):
    from apps.telephony.selectors import location_users

    location = Location.objects.create(name="Paris", code="par")
    create(api, location="par")
    api("globex").post("/api/extensions/globex/", {"number": "1001", "name": "G", "location": "par"})
    api("globex").post("/api/extensions/globex/", {"number": "1002", "name": "G", "location": "par"})
    assert location_users(location.pk) == {"acme": 1, "globex": 2}
    assert location_users(location.pk + 1) == {}
