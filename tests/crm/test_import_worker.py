"""A large import runs on a real Celery worker: queued on commit, progress through the status
API, batches committed by the worker, one event."""
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.crm.models import Contact
from apps.events.models import OutboxEvent
from tests.conftest import ApiClient

pytestmark = pytest.mark.celery_worker


def test_a_queued_import_runs_on_the_worker(committed_world, celery_worker, settings):

    settings.CRM_IMPORT_INLINE_BYTES = 1024  # anything bigger is a job
    rows = "".join(f"User {i},user{i}@example.com,+1 415 555 {i % 10000:04d}\n" for i in range(3000))
    client = ApiClient(committed_world.keys["acme"])
    response = client.client.post("/api/crm-contacts/acme/import", {
        "file": SimpleUploadedFile("big.csv", ("Name,Email,Phone\n" + rows).encode())}, format="multipart")
    assert response.status_code == 202, response.content
    location = response["Location"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(location).json()
        if job["status"] in ("completed", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "completed", (job, celery_worker.log()[-3000:])
    assert job["created_count"] == 3000 and job["progress"] == {"rows_done": 3000, "rows_total": 3000,
                                                                 "percent": 100.0}
    with tenant_context(committed_world.acme):
        assert Contact.objects.count() == 3000
        assert Contact.objects.get(email="user7@example.com").phone == "+14155550007"
    events = OutboxEvent.objects.filter(tenant_id=committed_world.acme.pk, type__startswith="crm.")
    assert list(events.values_list("type", flat=True)) == ["crm.import.completed"]
