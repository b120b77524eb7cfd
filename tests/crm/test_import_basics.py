"""Importing contacts: the common path, counts, events, preview writing nothing."""
import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Account, Contact, ImportJob
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

BASIC = (
    "First Name,Last Name,Email,Phone,Company\n"
    "Ada,Lovelace,ADA@example.com,(415) 555-0100,Analytical Engines\n"
    "Grace,Hopper,grace@example.com,+1 202 555 0143,Navy\n"
    "Alan,Turing,alan@example.com,+44 20 7946 0000,Analytical Engines\n"
)


def test_import_creates_contacts_with_e164_phones_and_accounts(upload, world):
    response = upload("acme", BASIC)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "completed" and body["created_count"] == 3 and body["error_count"] == 0
    assert body["progress"] == {"rows_done": 3, "rows_total": 3, "percent": 100.0}
    with tenant_context(world.acme):
        ada = Contact.objects.get(email="ada@example.com")
        assert ada.phone == "+14155550100" and ada.account.name == "Analytical Engines"
        assert Contact.objects.get(last_name="Turing").phone == "+442079460000"
        assert Account.objects.count() == 2
    events = OutboxEvent.objects.filter(tenant_id=world.acme.pk, type__startswith="crm.")
    assert list(events.values_list("type", flat=True)) == ["crm.import.completed"]
    assert events.get().data["created"] == 3


def test_preview_reports_mapping_sample_and_counts_but_writes_nothing(upload, world):
    response = upload("acme", BASIC, preview=True)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["First Name", "Last Name", "Email", "Phone", "Company"]
    assert body["mapping"]["Email"]["field"] == "email" and body["mapping"]["Company"]["field"] == "account"
    assert body["summary"] == {"create": 3, "update": 0, "skip": 0, "error": 0}
    assert body["sample"][0]["values"]["phone"] == "+14155550100"
    assert body["sample"][0]["values"]["email"] == "ada@example.com"
    with tenant_context(world.acme):
        assert Contact.objects.count() == 0 and Account.objects.count() == 0 and ImportJob.objects.count() == 0
    assert not OutboxEvent.objects.filter(tenant_id=world.acme.pk, type__startswith="crm.").exists()
