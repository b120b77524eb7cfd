"""Import semantics: dedupe rules, modes, maps and transforms, custom fields, error CSV, undo, jobs."""
import csv
import io

import pytest
from django_tenants.utils import tenant_context

from apps.crm import services
from apps.crm.models import Account, Contact, CustomField, ImportJob, ImportRowIssue
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def contacts(world, **filters):
    with tenant_context(world.acme):
        return list(Contact.objects.filter(**filters).order_by("id").values(
            "first_name", "last_name", "email", "phone", "mobile", "custom", "external_id", "tags"))


def seed(world, **data):
    with tenant_context(world.acme):
        return services.contact_create(actor=None, tenant=world.acme, **data)


def error_csv(api, job_id):
    response = api("acme").get(f"/api/crm-imports/acme/{job_id}/errors")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_dedupe_on_email_updates_without_blanking_and_skips_in_file_duplicates(upload, world, api):
    seed(world, first_name="Ada", last_name="Old", email="ada@example.com", phone="+14155550100", title="Countess")
    text = ("Email,Last name,Title,Mobile\n"
            "ADA@example.com,Lovelace,,+1 415 555 0101\n"
            "new@example.com,New,,\n"
            "ada@example.com,Again,,\n")
    job = upload("acme", text).json()
    assert (job["created_count"], job["updated_count"], job["skipped_count"], job["error_count"]) == (1, 1, 1, 0)
    ada = contacts(world, email="ada@example.com")[0]
    assert ada["last_name"] == "Lovelace" and ada["first_name"] == "Ada" and ada["mobile"] == "+14155550101"
    assert ada["phone"] == "+14155550100"  # an empty or unmapped cell never blanks a field
    rows = error_csv(api, job["id"])
    assert rows[0] == ["line", "level", "errors", "Email", "Last name", "Title", "Mobile"]
    assert rows[1][:2] == ["4", "skipped"] and "line 2" in rows[1][2]


def test_on_match_skip_and_dedupe_on_phone_and_external_id(upload, world):
    seed(world, first_name="Ada", email="ada@example.com", phone="+14155550100", external_id="SF-1")
    job = upload("acme", "Email,First name\nada@example.com,Changed\n", on_match="skip").json()
    assert job["skipped_count"] == 1 and contacts(world)[0]["first_name"] == "Ada"
    job = upload("acme", "Phone,First name\n(415) 555-0100,ByPhone\n", dedupe_on="phone").json()
    assert job["updated_count"] == 1 and contacts(world)[0]["first_name"] == "ByPhone"
    job = upload("acme", "ID,First name\nSF-1,ByExternalId\n", dedupe_on="external_id").json()
    assert job["updated_count"] == 1 and contacts(world)[0]["first_name"] == "ByExternalId"
    job = upload("acme", "Phone,First name\n415-555-0100,Twin\n", dedupe_on="phone", on_match="create").json()
    assert job["created_count"] == 1 and len(contacts(world, phone="+14155550100")) == 2


def test_an_email_owned_by_another_contact_is_a_row_error(upload, world):
    seed(world, first_name="Ada", email="ada@example.com", phone="+14155550100")
    job = upload("acme", "Phone,Email\n+1 415 555 0100,x@example.com\n202-555-0143,ada@example.com\n",
                 dedupe_on="phone").json()
    assert job["updated_count"] == 1 and job["error_count"] == 1 and job["created_count"] == 0


def test_dedupe_email_with_create_on_match_is_refused(upload, world):
    response = upload("acme", "Email\na@example.com\n", dedupe_on="email", on_match="create")
    assert response.status_code == 400 and "on_match" in response.json()["errors"]


def test_all_or_nothing_with_one_bad_row_writes_nothing(upload, world, api):
    text = "Email,Phone\na@example.com,+1 415 555 0100\nb@example.com,not a phone\nc@example.com,\n"
    job = upload("acme", text, mode="all_or_nothing").json()
    assert job["status"] == "failed" and job["created_count"] == 0 and job["error_count"] == 1
    assert "nothing was imported" in job["error_message"]
    assert contacts(world) == []
    event = OutboxEvent.objects.get(tenant_id=world.acme.pk, type="crm.import.completed")
    assert event.data["status"] == "failed"
    rows = error_csv(api, job["id"])
    assert rows[1][0] == "3" and "Phone" in rows[1][2] and rows[1][3:] == ["b@example.com", "not a phone"]


def test_commit_valid_imports_the_good_rows_and_reports_the_bad(upload, world):
    text = "Email,Phone\na@example.com,+1 415 555 0100\nb@example.com,not a phone\nc@example.com,\n"
    job = upload("acme", text, mode="commit_valid").json()
    assert job["status"] == "completed" and job["created_count"] == 2 and job["error_count"] == 1
    assert job["errors_url"] == f"/api/crm-imports/acme/{job['id']}/errors"
    with tenant_context(world.acme):
        issue = ImportRowIssue.objects.get(job_id=job["id"])
    assert issue.row == 3 and issue.line == 3 and issue.messages[0]["column"] == "Phone"
    assert issue.messages[0]["code"] == "invalid_phone"


def test_saved_map_with_transforms_defaults_and_name_split(api, upload, world):
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="since", label="Customer since", field_type="date")
    import_map = api("acme").post("/api/crm-import-maps/acme/", {
        "name": "Legacy CRM", "dedupe_on": "email", "on_match": "update",
        "columns": {"Name": {"field": "full_name", "transforms": ["trim", "split_name"]},
                    "Mail": {"field": "email", "transforms": ["trim", "lower"]},
                    "Town": {"field": "city", "transforms": ["upper"]},
                    "Origin": {"field": "source", "default": "legacy-crm"},
                    "Since": {"field": "cf:since", "date_format": "%d/%m/%Y"},
                    "Junk": {"field": ""}}})
    assert import_map.status_code == 201, import_map.content
    text = "Name,Mail,Town,Origin,Since,Junk\nLovelace, Ada,ADA@X.ORG,london,,31/12/1842,zzz\n"
    text = 'Name,Mail,Town,Origin,Since,Junk\n"Lovelace, Ada",ADA@X.ORG,london,,31/12/1842,zzz\nGrace Hopper,g@x.org,nyc,web,01/02/1950,\n'
    job = upload("acme", text, import_map=import_map.json()["id"]).json()
    assert job["created_count"] == 2, job
    with tenant_context(world.acme):
        ada = Contact.objects.get(email="ada@x.org")
        grace = Contact.objects.get(email="g@x.org")
    assert (ada.first_name, ada.last_name, ada.city, ada.source) == ("Ada", "Lovelace", "LONDON", "legacy-crm")
    assert ada.custom == {"since": "1842-12-31"} and grace.source == "web" and grace.last_name == "Hopper"


def test_invalid_maps_are_refused_with_field_errors(api, world):
    response = api("acme").post("/api/crm-import-maps/acme/", {
        "name": "Bad", "columns": {"A": {"field": "nope"}, "B": {"field": "email", "transforms": ["shout"]},
                                   "C": {"field": "email"}}})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "columns.A" in errors and "columns.B" in errors and "columns.C" in errors
    response = api("acme").post("/api/crm-import-maps/acme/", {"name": "X", "columns": {"E": "email"},
                                                               "on_match": "create"})
    assert response.status_code == 400 and "on_match" in response.json()["errors"]


def test_custom_fields_in_import_are_validated_and_required_for_new_contacts(upload, world):
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="tier", label="Tier", field_type="choice",
                                   choices=["gold", "silver"], required=True)
        CustomField.objects.create(object_type="contact", name="seats", label="Seats", field_type="number",
                                   unique=True)
    seed(world, email="old@example.com", custom={"tier": "gold", "seats": 5})
    text = ("Email,Tier,Seats\n"
            "a@example.com,Gold,10\n"        # ok (choice matched case-insensitively)
            "b@example.com,platinum,11\n"    # not a choice
            "c@example.com,,12\n"            # required for a new contact
            "old@example.com,,7\n"           # an update need not repeat it
            "d@example.com,silver,5\n"       # unique: belongs to old@
            "e@example.com,silver,10\n")     # unique: same as line 2
    job = upload("acme", text).json()
    assert (job["created_count"], job["updated_count"], job["error_count"]) == (1, 1, 4), job
    with tenant_context(world.acme):
        assert Contact.objects.get(email="a@example.com").custom == {"tier": "gold", "seats": 10}
        assert Contact.objects.get(email="old@example.com").custom == {"tier": "gold", "seats": 7}
        messages = {i.row: i.messages[0]["message"] for i in ImportRowIssue.objects.filter(job_id=job["id"])}
    assert "platinum" in messages[3] and "required" in messages[4]
    assert "already belongs to contact" in messages[6] and "line 2" in messages[7]


def test_undo_deletes_created_contacts_and_their_new_accounts_only(upload, api, world):
    seed(world, first_name="Old", email="old@example.com")
    job = upload("acme", "Email,First name,Company\nold@example.com,Updated,Acme\nnew@example.com,New,Acme\n"
                         "other@example.com,Other,Initrode\n").json()
    assert job["created_count"] == 2 and job["updated_count"] == 1
    response = api("acme").post(f"/api/crm-imports/acme/{job['id']}/undo/")
    assert response.status_code == 200 and response.json()["status"] == "undone"
    remaining = contacts(world)
    assert [c["email"] for c in remaining] == ["old@example.com"] and remaining[0]["first_name"] == "Updated"
    with tenant_context(world.acme):
        assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]  # still used by old@
    again = api("acme").post(f"/api/crm-imports/acme/{job['id']}/undo/")
    assert again.status_code == 409 and again.json()["code"] == "import_not_undoable"
    assert OutboxEvent.objects.filter(tenant_id=world.acme.pk, type="crm.import.undone").get().data["deleted"] == 2


def test_large_files_are_queued_and_the_status_endpoint_reports_progress(upload, api, world, settings,
                                                                         django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_INLINE_BYTES = 10
    rows = "".join(f"user{i}@example.com,+1 415 555 {i:04d}\n" for i in range(200))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload("acme", "Email,Phone\n" + rows)
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/crm-imports/acme/{job['id']}/"
    assert job["status"] == "queued" and job["progress"] == {"rows_done": 0, "rows_total": 200, "percent": 0.0}
    assert len(callbacks) == 1  # the Celery task is sent when the upload commits
    with tenant_context(world.acme):
        ImportJob.objects.filter(pk=job["id"]).update(status="running", rows_done=50)
    status = api("acme").get(response["Location"]).json()
    assert status["progress"] == {"rows_done": 50, "rows_total": 200, "percent": 25.0}
    with tenant_context(world.acme):
        ImportJob.objects.filter(pk=job["id"]).update(status="queued", rows_done=0)
        from apps.crm.tasks import run_import

        run_import(world.acme.pk, job["id"])  # what the worker runs, here in-process
    status = api("acme").get(response["Location"]).json()
    assert status["status"] == "completed" and status["created_count"] == 200
    assert status["progress"] == {"rows_done": 200, "rows_total": 200, "percent": 100.0}
    assert api("acme").get("/api/crm-imports/acme/?status=completed")["X-Total-Count"] == "1"


def test_raw_text_csv_body_with_options_in_the_query_string(api, world):
    client = api("acme").client
    body = "E-mail;Nom;Prénom\nzoe@example.fr;Dupont;Zoé\n".encode("utf-8")
    response = client.post("/api/crm-contacts/acme/import?mode=all_or_nothing&file_name=fr.csv", body,
                           content_type="text/csv")
    assert response.status_code == 201, response.content
    assert response.json()["delimiter"] == ";" and response.json()["file_name"] == "fr.csv"
    assert contacts(world)[0]["first_name"] == "Zoé"


def test_contact_export_neutralises_formula_cells(api, world):
    seed(world, first_name="=HYPERLINK(\"http://evil\")", last_name="@SUM(A1)", email="x@example.com")
    response = api("acme").get("/api/crm-contacts/acme/export")
    text = b"".join(response.streaming_content).decode()
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1] == "'=HYPERLINK(\"http://evil\")" and row[2] == "'@SUM(A1)"
    assert api("globex").get("/api/crm-contacts/acme/export").status_code == 404


@pytest.mark.parametrize("keys_in_memory", [150_000, 1], ids=["keys-in-the-parser", "keys-moved-to-the-database"])
def test_batches_of_a_large_job_see_each_others_rows(upload, world, monkeypatch, keys_in_memory):
    """commit_valid jobs write batch by batch: duplicates, clashes and progress across batches;
    repeated e-mails found by the parser, or (a big file) against the keys moved to the database."""
    from apps.crm.importer import pipeline

    monkeypatch.setattr(pipeline, "PIPELINE_BATCH_ROWS", 2)
    monkeypatch.setattr(pipeline, "PIPELINE_DEDUPE_KEYS", keys_in_memory)
    seed(world, email="old@example.com", external_id="E-OLD")
    progress = []
    monkeypatch.setattr("apps.crm.imports._progress", lambda job_id, **fields: progress.append(fields))
    text = ("Email,ID,First name\n"
            "a@example.com,E1,A\n"
            "b@example.com,E2,B\n"
            "old@example.com,,Old\n"        # batch 2: updates
            "a@example.com,E9,Again\n"      # batch 2: same e-mail as line 2 (batch 1) -> skipped
            "c@example.com,E2,C\n"          # batch 3: external id of line 3 -> error
            "d@example.com,E-OLD,D\n"       # batch 3: external id of old@ -> error
            "not-an-email,E5,X\n"           # batch 4: row error
            "e@example.com,E6,E\n")
    job = upload("acme", text).json()
    assert (job["created_count"], job["updated_count"], job["skipped_count"], job["error_count"]) == (3, 1, 1, 3), job
    assert job["status"] == "completed" and job["rows_total"] == 8
    assert sorted(c["email"] for c in contacts(world)) == ["a@example.com", "b@example.com", "e@example.com",
                                                          "old@example.com"]
    assert contacts(world, email="a@example.com")[0]["first_name"] == "A"
    with tenant_context(world.acme):
        messages = {i.row: i.messages[0]["message"] for i in ImportRowIssue.objects.filter(job_id=job["id"])}
    assert "line 2" in messages[5] and "already belongs to contact" in messages[6]
    assert "already belongs to contact" in messages[7] and "not-an-email" in messages[8]
    assert [p["rows_done"] for p in progress if "rows_done" in p] == [2, 4, 6, 8]


def test_repeated_keys_of_a_big_file_are_found_before_and_after_they_move_to_the_database(upload, world,
                                                                                         monkeypatch):
    """After PIPELINE_DEDUPE_KEYS keys the parser hands them to the database: a repeat of a key
    from before (line 2), from a batch after (line 5) and within one batch are all skipped, each
    naming the first line."""
    from apps.crm.importer import pipeline

    monkeypatch.setattr(pipeline, "PIPELINE_BATCH_ROWS", 3)
    monkeypatch.setattr(pipeline, "PIPELINE_DEDUPE_KEYS", 1)
    text = ("Email,First name\n"
            "a@example.com,A\nb@example.com,B\nc@example.com,C\n"       # lines 2-4: the keys move
            "d@example.com,D\nD@example.com,D2\na@example.com,A2\n"     # lines 5-7
            "e@example.com,E\nd@example.com,D3\nf@example.com,F\n")     # lines 8-10
    job = upload("acme", text).json()
    assert (job["created_count"], job["updated_count"], job["skipped_count"], job["error_count"]) == (6, 0, 3, 0), job
    with tenant_context(world.acme):
        messages = {i.line: i.messages[0]["message"] for i in ImportRowIssue.objects.filter(job_id=job["id"])}
    assert messages == {6: "Same e-mail as line 5; only the first is imported.",
                        7: "Same e-mail as line 2; only the first is imported.",
                        9: "Same e-mail as line 5; only the first is imported."}
    assert {c["email"]: c["first_name"] for c in contacts(world)} == {
        "a@example.com": "A", "b@example.com": "B", "c@example.com": "C", "d@example.com": "D",
        "e@example.com": "E", "f@example.com": "F"}


def test_inline_column_map_in_the_upload_and_filtering_contacts_by_import(upload, api, world):
    columns = {"Courriel": {"field": "email"}, "Portable": {"field": "mobile"}, "Étiquettes": {"field": "tags"}}
    job = upload("acme", "Courriel;Portable;Étiquettes\nzoe@example.fr;+33 6 12 34 56 78;vip, paris\n",
                 columns=columns).json()
    assert job["created_count"] == 1 and job["delimiter"] == ";", job
    contact = api("acme").get(f"/api/crm-contacts/acme/?import_job={job['id']}").json()
    assert len(contact) == 1 and contact[0]["mobile"] == "+33612345678" and contact[0]["tags"] == ["vip", "paris"]
    assert api("acme").get("/api/crm-contacts/acme/?tag=paris")["X-Total-Count"] == "1"
    bad = upload("acme", "Courriel\nzoe@example.fr\n", columns={"Email": "email"})
    assert bad.status_code == 400 and "not in the file" in bad.json()["detail"]


def test_answers_kept_per_cell_value_give_every_row_its_own_result(upload, world):
    """Countries, choice and yes/no values and the custom JSON are worked out once per value:
    each row with a bad value still gets its own error, and good values their stored form."""
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="tier", label="Tier", field_type="choice",
                                   choices=["gold", "silver"])
        CustomField.objects.create(object_type="contact", name="vip", label="VIP", field_type="boolean")
        CustomField.objects.create(object_type="contact", name="seats", label="Seats", field_type="number")
    rows = ["Email,Country,Tier,VIP,Seats"]
    for i in range(6):
        rows.append(f"ok{i}@example.com,{'France' if i % 2 else 'fr'},{'Gold' if i % 2 else 'silver'},"
                    f"{'yes' if i % 2 else 'no'},{1 if i % 2 else '1.5'}")
    rows += [f"bad{i}@example.com,Atlantis,platinum,maybe,1" for i in range(3)]
    job = upload("acme", "\n".join(rows) + "\n").json()
    assert (job["created_count"], job["error_count"]) == (6, 3)
    with tenant_context(world.acme):
        issues = list(ImportRowIssue.objects.filter(job_id=job["id"]).order_by("row"))
        stored = {c.email: (c.country, c.custom) for c in Contact.objects.all()}
    assert [i.row for i in issues] == [8, 9, 10]
    for issue in issues:
        assert sorted(m["code"] for m in issue.messages) == ["invalid_country", "invalid_custom_field",
                                                             "invalid_custom_field"]
    assert stored["ok1@example.com"] == ("FR", {"tier": "gold", "vip": True, "seats": 1})
    assert stored["ok2@example.com"] == ("FR", {"tier": "silver", "vip": False, "seats": 1.5})



def test_uploaded_files_are_stored_by_copy_and_read_back_intact(world):
    """Chunks go in with binary COPY (no bytea literal to escape and parse), as they came."""
    from apps.crm.importer.source import iter_stored, store_chunks
    from apps.crm.models import ImportJob

    with tenant_context(world.acme):
        job = ImportJob.objects.create(file_name="x.csv")
        data = bytes(range(256)) * 9000 + b"\\x00'\r\n"  # every byte value, backslashes, quotes
        chunks = [data[i:i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024)]
        assert len(chunks) == 3 and store_chunks(job.pk, chunks) == len(data)
        assert b"".join(iter_stored(job.pk)) == data
        assert list(job.chunks.values_list("seq", flat=True)) == [0, 1, 2]


def test_the_gil_switch_interval_is_short_while_a_job_writes_and_put_back_after(upload, world, monkeypatch):
    import sys

    from apps.crm.importer import pipeline

    monkeypatch.setattr(pipeline, "PIPELINE_BATCH_ROWS", 2)
    seen = []
    monkeypatch.setattr("apps.crm.imports._progress", lambda job_id, **fields: seen.append(
        sys.getswitchinterval()) if "rows_done" in fields else None)  # each batch, as it commits
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        job = upload("acme", "Email\na@example.com\nb@example.com\nc@example.com\n").json()
        assert job["created_count"] == 3
        assert seen == [pipeline.PIPELINE_SWITCH_INTERVAL] * 2
        assert sys.getswitchinterval() == 0.004
    finally:
        sys.setswitchinterval(before)
