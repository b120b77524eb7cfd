"""Previews of big files run as jobs: the request stores the file and answers 202 with the job,
the worker computes the preview with progress on the job, and the result is read from the job.
Small files are still previewed inside the request (200)."""
from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.crm import imports
from apps.crm.models import Contact, ImportJob
from tests.crm.conftest import csv_upload

ROWS = ["Name,Email,Phone,Country"] + [
    f"User {i},user{i}@example.com,030 {901820 + i % 5000},DE" if i % 3 else f"User {i},user{i}@example.com,"
    f"(415) 555-{i % 10000:04d},US" for i in range(1, 400)] + ["Bad Row,not-an-email,12,US",
                                                                "Again,user5@example.com,030 901825,DE"]
TEXT = "\n".join(ROWS) + "\n"


@pytest.fixture
def admin_client(world):
    client = Client()
    assert client.login(username="acme-admin", password="pw-acme-1")
    return client


@pytest.fixture
def small_threshold(settings):
    settings.CRM_IMPORT_PREVIEW_INLINE_BYTES = 1024  # anything bigger is previewed by a job
    return settings


def _run_task_body(world, job_id: int):
    """What the worker does (crm.run_preview), in this process."""
    with tenant_context(world.acme):
        job = ImportJob.objects.get(pk=job_id)
        return imports.import_preview_run(tenant=world.acme, job_id=job_id, token=job.preview_token)


def test_a_small_file_is_still_previewed_inside_the_request(upload, world):
    response = upload("acme", TEXT, preview=True)
    assert response.status_code == 200 and response.json()["rows"] == len(ROWS) - 1
    with tenant_context(world.acme):
        assert not ImportJob.objects.exists()


def test_a_big_file_answers_202_with_the_job_and_the_job_gives_the_same_preview(upload, api, world, settings,
                                                                               small_threshold):
    settings.CRM_IMPORT_PREVIEW_INLINE_BYTES = 10**9
    inline = upload("acme", TEXT, preview=True).json()
    settings.CRM_IMPORT_PREVIEW_INLINE_BYTES = 1024

    response = upload("acme", TEXT, preview=True)
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/crm-imports/acme/{job['id']}/"
    assert job["status"] == "draft" and job["preview"]["status"] == "queued"
    assert job["preview"]["progress"] == {"rows_done": 0, "rows_total": len(ROWS) - 1, "percent": 0.0}
    assert job["preview"]["url"] == f"/api/crm-imports/acme/{job['id']}/preview"

    not_yet = api("acme").get(job["preview"]["url"])
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "conflict"
    assert not_yet["Retry-After"] == "1"

    _run_task_body(world, job["id"])
    state = api("acme").get(response["Location"]).json()
    assert state["status"] == "draft" and state["preview"]["status"] == "ready"
    assert state["preview"]["progress"]["percent"] == 100.0 and state["preview"]["error"] is None
    result = api("acme").get(job["preview"]["url"])
    assert result.status_code == 200
    assert result.json() == inline  # the job's preview is the request's preview of the same file
    assert result.json()["summary"] == {"create": len(ROWS) - 3, "update": 0, "skip": 1, "error": 1}
    with tenant_context(world.acme):
        assert not Contact.objects.exists()


def test_a_file_level_problem_of_a_big_file_is_still_a_400_at_once(upload, small_threshold):
    response = upload("acme", "a@example.com,+14155550100\n" * 200, preview=True)
    assert response.status_code == 400 and response.json()["code"] == "import_file_invalid"


def test_a_failed_preview_job_answers_the_problem_the_request_would_have(upload, api, world, small_threshold):
    job = upload("acme", TEXT, preview=True).json()
    with tenant_context(world.acme):  # the stored file loses its header after the upload's checks
        from apps.crm.models import ImportFileChunk

        chunk = ImportFileChunk.objects.get(job_id=job["id"], seq=0)
        chunk.data = b"\n" * 10
        chunk.save()
    _run_task_body(world, job["id"])
    state = api("acme").get(f"/api/crm-imports/acme/{job['id']}/").json()
    assert state["preview"]["status"] == "failed" and "header" in state["preview"]["error"]
    failed = api("acme").get(job["preview"]["url"])
    assert failed.status_code == 400 and failed.json()["code"] == "import_file_invalid"
    assert "file" in failed.json()["errors"]


def test_a_superseded_preview_run_stores_nothing(upload, world, small_threshold):
    job_id = upload("acme", TEXT, preview=True).json()["id"]
    with tenant_context(world.acme):
        old = ImportJob.objects.get(pk=job_id).preview_token
        imports.import_preview_queue(tenant=world.acme, job=ImportJob.objects.get(pk=job_id))
        assert imports.import_preview_run(tenant=world.acme, job_id=job_id, token=old) is None
        job = ImportJob.objects.get(pk=job_id)
        assert job.preview_status == "queued" and job.preview is None and job.preview_token != old


def test_an_import_without_a_preview_job_says_so(api, upload, world):
    job = upload("acme", TEXT).json()
    response = api("acme").get(f"/api/crm-imports/acme/{job['id']}/preview")
    assert response.status_code == 409 and "No preview" in response.json()["detail"]
    assert job["preview"] is None


def test_another_tenants_preview_job_is_not_found(api, upload, small_threshold):
    job = upload("acme", TEXT, preview=True).json()
    assert api("initech").get(f"/api/crm-imports/acme/{job['id']}/preview").status_code == 404
    assert api("initech").get(f"/api/crm-imports/initech/{job['id']}/preview").status_code == 404


def test_admin_previews_a_big_file_with_a_progress_bar_then_shows_the_preview(admin_client, world,
                                                                             small_threshold):
    response = admin_client.post("/t/acme/admin/crm/importjob/upload/", {"file": csv_upload(TEXT)})
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    map_url = response["Location"]
    page = admin_client.get(map_url)
    assert page.status_code == 200 and page.context["preview"] is None
    assert 'id="preview-progress"' in page.content.decode()
    job = page.context["job"]
    with tenant_context(world.acme):
        assert ImportJob.objects.get(pk=job.pk).preview_status == "queued"
    status = admin_client.get(f"/t/acme/admin/crm/importjob/{job.pk}/status.json").json()
    assert status["preview"]["status"] == "queued" and status["preview"]["progress"]["percent"] == 0.0

    _run_task_body(world, job.pk)
    page = admin_client.get(map_url)
    assert 'id="preview-progress"' not in page.content.decode()
    assert page.context["preview"]["summary"] == {"create": len(ROWS) - 3, "update": 0, "skip": 1, "error": 1}

    # A changed map asks for a new preview.
    form = {f"col_{i}_field": f for i, f in enumerate(["full_name", "email", "phone", ""])}
    form.update({"dedupe_on": "email", "on_match": "update", "mode": "commit_valid", "preview": "1"})
    page = admin_client.post(map_url, form)
    assert page.status_code == 200 and page.context["preview"] is None
    with tenant_context(world.acme):
        assert ImportJob.objects.get(pk=job.pk).preview_status == "queued"
    _run_task_body(world, job.pk)
    page = admin_client.get(map_url)
    assert page.context["preview"]["mapping"]["Country"]["field"] == ""


@pytest.mark.celery_worker
def test_a_big_preview_answers_within_a_second_and_arrives_from_the_worker_with_progress(committed_world,
                                                                                       celery_worker):
    """The real path: a 100,000-row file (the default threshold, 256 KiB, is far below it)."""
    import time

    from tests.conftest import ApiClient

    rows = "".join(f"User {i},user{i}@example.com,030 {901820 + i % 90000},DE\n" if i % 4 else
                   f"User {i},user{i}@example.com,(415) 555-{i % 10000:04d},US\n" for i in range(100_000))
    data = ("Name,Email,Phone,Country\n" + rows + "Bad,not-an-email,12,US\n").encode()
    assert len(data) > 10 * imports.preview_inline_bytes()  # 4.8 MB
    client = ApiClient(committed_world.keys["acme"])
    started = time.monotonic()
    response = client.client.post("/api/crm-contacts/acme/import/preview",
                                  {"file": csv_upload(data, "big.csv")}, format="multipart")
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.content
    assert elapsed < 1.0, f"the request took {elapsed:.2f} s"

    seen, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(response["Location"]).json()["preview"]
        seen.append((state["status"], state["progress"]["percent"]))
        if state["status"] in ("ready", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "ready", (state, celery_worker.log()[-3000:])
    partial = [p for status, p in seen if status == "running" and 0 < p < 100]
    assert partial, seen  # progress was visible while the worker read the file
    assert partial == sorted(partial)
    result = client.get(state["url"]).json()
    assert result["rows"] == 100_001
    assert result["summary"] == {"create": 100_000, "update": 0, "skip": 0, "error": 1}
    with tenant_context(committed_world.acme):
        assert not Contact.objects.exists()
