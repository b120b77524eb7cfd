"""POST /api/extensions/<tenant>/bulk: a range (or rows) created all or nothing."""
import pytest
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.events.models import OutboxEvent
from apps.telephony.models import Extension
from tests.telephony.conftest import codes, fields

pytestmark = pytest.mark.django_db
BULK = "/api/extensions/acme/bulk"


def count(tenant):
    with tenant_context(tenant):
        return Extension.objects.count()


def test_range_is_created_with_names_defaults_generated_secrets_and_one_event_each(api, world):
    response = api("acme").post(BULK, {"start": "2000", "end": "2049", "name_template": "Desk {number}",
                                       "defaults": {"codecs": ["opus"], "ring_time": 30}})
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body) == 50 and response["X-Total-Count"] == "50"
    assert body[0]["name"] == "Desk 2000" and body[-1]["number"] == "2049"
    assert body[7]["codecs"] == ["opus"] and body[7]["ring_time"] == 30
    assert all("sip_secret" not in row for row in body)
    with tenant_context(world.acme):
        secrets = set(Extension.objects.values_list("number", flat=True))
        assert len(secrets) == 50
        assert len({e.sip_secret for e in Extension.objects.all()}) == 50  # each its own secret
    events = OutboxEvent.objects.filter(tenant_id=world.acme.pk, type="config.extension.created")
    assert events.count() == 50
    assert all(e.system and e.data["bulk"] is True for e in events)
    assert {e.data["phone_username"] for e in events} == {f"{n}-acme" for n in range(2000, 2050)}
    assert AuditEntry.objects.filter(tenant_id=world.acme.pk, verb="bulk_create").count() == 50


def test_the_trailing_slash_form_works_too(api, world):
    assert api("acme").post(BULK + "/", {"start": "2000", "end": "2001"}).status_code == 201


def test_a_taken_number_fails_the_whole_batch_naming_the_row(api, world):
    api("acme").post("/api/queues/acme/", {"number": "2017", "name": "Q"})
    response = api("acme").post(BULK, {"start": "2000", "end": "2029"})
    assert response.status_code == 400
    errors = fields(response)
    assert list(errors) == ["rows[17].number"]
    assert errors["rows[17].number"][0]["code"] == "duplicate_number"
    assert count(world.acme) == 0
    assert not OutboxEvent.objects.filter(type="config.extension.created").exists()


def test_explicit_rows_name_the_bad_field(api, world):
    rows = [{"number": f"30{i:02d}", "name": f"N{i}"} for i in range(20)]
    rows[3]["email"] = "not-an-email"
    rows[5]["sip_secret"] = "weak"
    rows[9]["number"] = "3000"  # repeats rows[0]
    response = api("acme").post(BULK, {"rows": rows})
    assert response.status_code == 400
    errors = fields(response)
    assert set(errors) == {"rows[3].email", "rows[5].sip_secret", "rows[9].number"}
    assert errors["rows[5].sip_secret"][0]["code"] == "weak_secret"
    assert errors["rows[9].number"][0]["code"] == "duplicate_number"
    assert count(world.acme) == 0


def test_bulk_respects_the_extension_limit(api, world):
    world.acme.max_extensions = 10
    world.acme.save()
    response = api("acme").post(BULK, {"start": "2000", "end": "2010"})
    assert response.status_code == 422 and codes(response) == "limit_exceeded"
    assert count(world.acme) == 0


def test_bad_range_and_template(api, world):
    assert codes(api("acme").post(BULK, {"start": "2010", "end": "2000"})) == "validation_error"
    assert codes(api("acme").post(BULK, {"start": "200", "end": "2000"})) == "invalid_number"
    response = api("acme").post(BULK, {"start": "2000", "end": "2001", "name_template": "Ext {nope}"})
    assert response.status_code == 400 and "name_template" in fields(response)
    response = api("acme").post(BULK, {"start": "2000", "end": "2001", "defaults": {"codecs": ["speex"]}})
    assert codes(response) == "invalid_codec"
    response = api("acme").post(BULK, {"start": "2000", "end": "2001", "defaults": {"number": "1"}})
    assert response.status_code == 400 and "number" in fields(response)


def test_read_only_and_foreign_keys_cannot_bulk_create(api, world):
    assert codes(api("acme_ro").post(BULK, {"start": "2000", "end": "2001"})) == "read_only_credential"
    assert codes(api("globex").post(BULK, {"start": "2000", "end": "2001"})) == "tenant_not_found"
    assert count(world.acme) == 0
