"""/api/phones/<tenant>/: MACs normalised and unique across the platform, models and lines
checked, credentials write-only, events without secrets, tenant isolation."""
from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from tests.helpers.isolation import check_tenant_isolation
from tests.provisioning.conftest import PHONES, create_phone
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db


def test_create_normalises_the_mac_and_shows_the_generated_password_once(api, world, exts):
    response = create_phone(api, exts, mac="00-15-65-ab-CD-ef", lines=("1001", "1002"), name="Front desk")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mac"] == "001565abcdef" and body["vendor"] == "yealink" and body["model"] == "T54W"
    assert [(l["position"], l["number"], l["phone_username"]) for l in body["lines"]] == [
        (1, "1001", "1001-acme"), (2, "1002", "1002-acme")]
    password = body["new_password"]
    assert len(password) == 24 and "password" not in body and "admin_password" not in body
    assert body["provisioning"] == {"url": "http://testserver/provisioning/", "username": "001565abcdef",
                                    "files": ["001565abcdef.cfg"]}
    again = api("acme").get(f"{PHONES}{body['id']}/").json()
    assert again["new_password"] is None and password not in str(again)
    assert password not in str(api("acme").get(PHONES).json())


def test_a_given_password_is_kept_and_never_shown(api, world, exts):
    response = create_phone(api, exts, password="Prov.Pass-2026-abcdXYZ", admin_password="Adm1nPassw0rd")
    assert response.status_code == 201 and response.json()["new_password"] is None
    from apps.provisioning.registry.models import Device

    assert Device.objects.get(mac="001565abcdef").password == "Prov.Pass-2026-abcdXYZ"
    with tenant_context(world.acme):
        from apps.provisioning.models import Phone

        assert Phone.objects.get().admin_password == "Adm1nPassw0rd"


@pytest.mark.parametrize("body,field,code", [
    ({"password": "short"}, "password", "validation_error"),
    ({"password": "aaaaaaaaaaaaaaaaaaaa"}, "password", "weak_secret"),
    ({"admin_password": "has space 12"}, "admin_password", "validation_error"),
])
def test_weak_or_unsafe_passwords_are_refused(api, exts, body, field, code):
    response = create_phone(api, exts, **body)
    assert response.status_code == 400 and codes(response) == code and field in fields(response)


@pytest.mark.parametrize("mac", ["00:15:65:AB:CD", "001565abcdeg", "000000000000", "ffffffffffff", "01005e000001",
                                 "001565abcdef00"])
def test_not_a_phone_mac(api, exts, mac):
    response = create_phone(api, exts, mac=mac)
    assert response.status_code == 400 and codes(response) == "invalid_mac" and "mac" in fields(response)


def test_vendor_and_model_must_agree(api, exts):
    response = create_phone(api, exts, model="VVX450", vendor="yealink")
    assert response.status_code == 400 and codes(response) == "invalid_model" and "model" in fields(response)
    response = create_phone(api, exts, model="T99")
    assert response.status_code == 400 and "model" in fields(response)
    assert create_phone(api, exts, model="VVX450").json()["vendor"] == "polycom"


def test_lines_are_checked_against_the_model(api, exts):
    too_many = create_phone(api, exts, model="GRP2612", lines=("1001", "1002", "1003"))
    assert too_many.status_code == 400 and codes(too_many) == "too_many_lines"
    assert "lines[2].position" in fields(too_many)
    response = api("acme").post(PHONES, {"mac": "001565abcdef", "model": "T54W", "lines": [
        {"extension": exts["1001"].pk, "position": 3}, {"extension": exts["1001"].pk, "position": 4}]})
    assert response.status_code == 400 and codes(response) == "duplicate_line"
    assert "lines[1].extension" in fields(response)
    response = api("acme").post(PHONES, {"mac": "001565abcdef", "model": "T54W", "lines": [
        {"extension": exts["1001"].pk, "position": 2}, {"extension": exts["1002"].pk, "position": 2}]})
    assert codes(response) == "duplicate_line" and "lines[1].position" in fields(response)
    # Positions not given take the free ones in order.
    response = api("acme").post(PHONES, {"mac": "001565abcdef", "model": "T54W", "lines": [
        {"extension": exts["1001"].pk}, {"extension": exts["1002"].pk, "position": 1}, {"extension": exts["1003"].pk}]})
    assert [(l["position"], l["number"]) for l in response.json()["lines"]] == [(1, "1002"), (2, "1001"), (3, "1003")]


def test_lines_reference_only_this_tenants_extensions(api, exts):
    response = create_phone(api, exts, lines=("2001",))  # globex's extension id
    assert response.status_code == 400 and codes(response) == "reference_not_found" and "lines[0]" in fields(response)
    unknown = api("acme").post(PHONES, {"mac": "001565abcdef", "model": "T54W", "lines": [{"extension": 99999}]})
    assert codes(unknown) == "reference_not_found"
    bogus = api("acme").post(PHONES, {"mac": "001565abcdef", "model": "T54W",
                                      "lines": [{"extension": exts["1001"].pk, "bogus": 1}]})
    assert bogus.status_code == 400 and "lines[0].bogus" in fields(bogus)


def test_a_mac_is_unique_in_the_tenant(api, exts):
    create_phone(api, exts)
    response = create_phone(api, exts, mac="0015.65ab.cdef", model="T46U")
    assert response.status_code == 409 and codes(response) == "duplicate" and "mac" in fields(response)


def test_a_mac_provisioned_in_another_tenant_is_409_without_naming_it(api, world, exts):
    assert create_phone(api, exts, key="globex", lines=("2001",)).status_code == 201
    response = create_phone(api, exts)
    assert response.status_code == 409 and codes(response) == "mac_taken" and "mac" in fields(response)
    text = response.content.decode().lower()
    assert "globex" not in text and str(world.globex.pk) not in response.json()["detail"]
    # And an update to that MAC the same way.
    mine = create_phone(api, exts, mac="001565000001").json()
    response = api("acme").patch(f"{PHONES}{mine['id']}/", {"mac": "00:15:65:ab:cd:ef"})
    assert response.status_code == 409 and codes(response) == "mac_taken" and "globex" not in response.content.decode()


def test_deleting_a_phone_frees_its_mac_for_any_tenant(api, exts):
    phone = create_phone(api, exts).json()
    assert api("acme").delete(f"{PHONES}{phone['id']}/").status_code == 204
    assert create_phone(api, exts, key="globex", lines=("2001",)).status_code == 201


def test_update_lines_model_mac_and_name(api, world, exts):
    phone = create_phone(api, exts, lines=("1001", "1002")).json()
    url = f"{PHONES}{phone['id']}/"
    response = api("acme").patch(url, {"lines": [{"extension": exts["1003"].pk, "position": 5, "label": "Sales"}]})
    assert response.status_code == 200, response.content
    assert response.json()["lines"] == [{"position": 5, "extension": exts["1003"].pk, "label": "Sales",
                                         "number": "1003", "phone_username": "1003-acme"}]
    # A model with fewer lines than the positions in use is refused, and nothing changes.
    smaller = api("acme").patch(url, {"model": "T31P"})
    assert smaller.status_code == 400 and codes(smaller) == "too_many_lines"
    assert api("acme").get(url).json()["model"] == "T54W"
    response = api("acme").patch(url, {"mac": "00:15:65:00:00:09", "name": "Hall"})
    assert response.json()["mac"] == "001565000009" and response.json()["name"] == "Hall"
    from apps.provisioning.registry.models import Device

    assert list(Device.objects.values_list("mac", flat=True)) == ["001565000009"]
    put = api("acme").put(url, {"mac": "001565000009", "model": "T46U", "lines": []})
    assert put.status_code == 200 and put.json()["lines"] == [] and put.json()["name"] == "Hall"


def test_an_extension_on_a_phone_cannot_be_deleted(api, world, exts):
    create_phone(api, exts)
    response = api("acme").delete(f"/api/extensions/acme/{exts['1001'].pk}/")
    assert response.status_code == 409 and codes(response) == "in_use"


def test_events_carry_the_lines_and_no_secret(api, world, exts):
    from tests.provisioning.conftest import SIP_SECRET

    phone = create_phone(api, exts, password="Prov.Pass-2026-abcdXYZ", admin_password="Adm1nPassw0rd").json()
    api("acme").patch(f"{PHONES}{phone['id']}/", {"name": "Desk 2"})
    api("acme").delete(f"{PHONES}{phone['id']}/")
    events = list(OutboxEvent.objects.filter(type__startswith="config.phone.").order_by("id"))
    assert [e.type for e in events] == ["config.phone.created", "config.phone.updated", "config.phone.deleted"]
    assert events[0].data["lines"] == [{"position": 1, "extension": exts["1001"].pk, "number": "1001",
                                        "phone_username": "1001-acme", "label": ""}]
    assert events[1].data["name"] == "Desk 2" and events[0].tenant_id == world.acme.pk
    import jsonschema

    from apps.events.registry import EVENT_TYPES

    for event in events:
        jsonschema.validate(event.data, EVENT_TYPES[event.type].schema)
        jsonschema.validate(EVENT_TYPES[event.type].example, EVENT_TYPES[event.type].schema)
        text = str(event.data)
        assert "Prov.Pass-2026" not in text and "Adm1nPassw0rd" not in text and SIP_SECRET not in text


def test_audit_entries_mask_the_passwords(api, world, exts):
    from apps.audit.models import AuditEntry

    phone = create_phone(api, exts, admin_password="Adm1nPassw0rd").json()
    api("acme").post(f"{PHONES}{phone['id']}/regenerate-credential/", {})
    entries = AuditEntry.objects.filter(object_type="provisioning.phone").order_by("id")
    assert [e.verb for e in entries][-1] == "regenerate_credential"
    assert "Adm1nPassw0rd" not in str([(e.before, e.after) for e in entries])


def test_other_tenants_and_read_only_keys(api, world, exts):
    phone = create_phone(api, exts).json()
    check_tenant_isolation(api, resource="phones", tenant=world.acme, obj_id=phone["id"], update={"name": "x"},
                           create={"mac": "001565000005", "model": "T54W"})
    for label in ("globex", "initech", "other_reseller"):
        response = api(label).post(f"{PHONES}{phone['id']}/regenerate-credential/", {})
        assert response.status_code == 404 and codes(response) == "tenant_not_found"
    read_only = api("acme_ro").post(f"{PHONES}{phone['id']}/regenerate-credential/", {})
    assert read_only.status_code == 403 and codes(read_only) == "read_only_credential"
    # globex's own list does not show acme's phone, and globex cannot reach it by id in its own path.
    assert api("globex").get("/api/phones/globex/").json() == []
    assert api("globex").get(f"/api/phones/globex/{phone['id']}/").status_code == 404


def test_filters_and_search(api, exts):
    create_phone(api, exts, lines=("1001",))
    create_phone(api, exts, mac="0004f2aabbcc", model="VVX250", lines=("1002", "1003"), name="Boardroom")
    get = api("acme").get
    assert [p["mac"] for p in get(f"{PHONES}?vendor=polycom").json()] == ["0004f2aabbcc"]
    assert [p["mac"] for p in get(f"{PHONES}?extension={exts['1003'].pk}").json()] == ["0004f2aabbcc"]
    assert [p["mac"] for p in get(f"{PHONES}?mac=00:04:F2:AA:BB:CC").json()] == ["0004f2aabbcc"]
    assert [p["mac"] for p in get(f"{PHONES}?search=board").json()] == ["0004f2aabbcc"]
    assert get(f"{PHONES}?vendor=nokia").status_code == 400


def test_the_list_makes_the_same_queries_for_1_and_20_phones(api, world, exts, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    create_phone(api, exts)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api("acme").get(PHONES).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for n in range(19):
        create_phone(api, exts, mac=f"0015650000{n:02x}", lines=("1001", "1002"))
    assert count() == one
