"""The tenant admin for phones: lines inline, writes through the services, the generated
provisioning password shown once, never a secret on a page."""
import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.provisioning.registry.models import Device
from tests.provisioning.conftest import create_phone

pytestmark = pytest.mark.django_db
BASE = "/t/acme/admin/provisioning/phone/"


@pytest.fixture
def reseller_client(world):
    client = Client()
    assert client.login(username="reseller", password="pw-reseller-1")
    return client


def form(exts, **fields):
    data = {"mac": "00:15:65:AB:CD:EF", "vendor": "yealink", "model": "T54W", "name": "Desk", "enabled": "on",
            "password": "", "admin_password": "",
            "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-position": "1", "lines-0-extension": str(exts["1001"].pk), "lines-0-label": "",
            "lines-1-position": "2", "lines-1-extension": str(exts["1002"].pk), "lines-1-label": "Bob"}
    data.update(fields)
    return data


def test_pages_load_and_show_no_secret(reseller_client, api, exts, world):
    phone = create_phone(api, exts, admin_password="Adm1nPassw0rd").json()
    for url in (BASE, f"{BASE}add/", f"{BASE}?q=1001", f"{BASE}{phone['id']}/change/"):
        response = reseller_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert phone["new_password"] not in page and "Adm1nPassw0rd" not in page
    assert "00:15:65:ab:cd:ef" in reseller_client.get(BASE).content.decode()


def test_adding_a_phone_with_lines_shows_the_password_once(reseller_client, exts, world):
    response = reseller_client.post(f"{BASE}add/", form(exts), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    password = Device.objects.get(mac="001565abcdef").password
    assert "shown once" in page and password in page
    with tenant_context(world.acme):
        from apps.provisioning.models import Phone

        phone = Phone.objects.get()
        assert [(line.position, line.extension.number, line.label) for line in phone.lines.all()] == [
            (1, "1001", ""), (2, "1002", "Bob")]
    assert OutboxEvent.objects.filter(type="config.phone.created").count() == 1
    assert password not in reseller_client.get(f"{BASE}{phone.pk}/change/").content.decode()


def test_the_admin_refuses_what_the_service_refuses(reseller_client, api, exts, world):
    create_phone(api, exts, key="globex", lines=("2001",))  # the MAC is globex's
    response = reseller_client.post(f"{BASE}add/", form(exts), follow=True)
    page = response.content.decode()
    assert "Not saved: The MAC address 001565abcdef is already provisioned on this platform." in page
    bad = reseller_client.post(f"{BASE}add/", form(exts, mac="01:00:5e:00:00:01"))
    assert bad.status_code == 200 and "Not a MAC address" in bad.content.decode()
    mismatch = reseller_client.post(f"{BASE}add/", form(exts, mac="001565000001", model="VVX450"))
    assert "Not a Yealink model" in mismatch.content.decode()


def test_regenerate_action_shows_the_new_password_once(reseller_client, api, exts):
    phone = create_phone(api, exts).json()
    response = reseller_client.post(BASE, {"action": "regenerate_credential", "_selected_action": [phone["id"]]},
                                    follow=True)
    new = Device.objects.get(mac="001565abcdef").password
    assert new != phone["new_password"] and new in response.content.decode()
