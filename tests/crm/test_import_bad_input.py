"""Every bad input of issue #4: a clear message (file-level 400 or per-row), never a 500, and a
preview or a refused file writes nothing."""
import codecs

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Contact, CustomField, ImportJob

pytestmark = pytest.mark.django_db


def nothing_written(world):
    with tenant_context(world.acme):
        return not Contact.objects.exists() and not ImportJob.objects.exists()


def issues(response):
    """{row: [messages]} from a preview response."""
    return {i["row"]: [m["message"] for m in i["messages"]] for i in response.json()["issues"]}


@pytest.mark.parametrize("content,expected", [
    (b"", "empty"),
    (b"\xef\xbb\xbf", "empty"),
    (b"\n\n  \n", "empty"),
    ("ada@example.com,+1 415 555 0100\ngrace@example.com,+1 202 555 0143\n".encode(), "looks like data"),
    (b"First name,Email,email\nAda,a@x.org,b@x.org\n", "Duplicate column names"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "PNG image"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "Excel"),
    (bytes(range(256)) * 64, "binary"),
    (b"Foo,Bar\n1,2\n", "None of the columns"),
])
@pytest.mark.parametrize("preview", [False, True], ids=["import", "preview"])
def test_file_level_problems_are_a_400_with_a_clear_message(upload, world, content, expected, preview):
    response = upload("acme", content, preview=preview)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] in ("import_file_invalid", "validation_error")
    assert expected.lower() in body["detail"].lower(), body["detail"]
    assert "file" in body.get("errors", {}) or body["code"] == "validation_error"
    assert nothing_written(world)


def test_a_file_over_50_mib_is_refused_with_413(api, world):
    body = b"Email\n" + b"a" * (50 * 1024 * 1024 + 300 * 1024)
    response = api("acme").client.post("/api/crm-contacts/acme/import", body, content_type="text/csv")
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert nothing_written(world)


def test_the_file_size_limit_itself_is_exact(upload, world, settings):
    settings.CRM_IMPORT_MAX_BYTES = 1000
    response = upload("acme", "Email\n" + "a@example.com\n" * 100)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    assert "larger than" in response.json()["detail"]
    assert upload("acme", "Email\n" + "a@example.com\n" * 10).status_code == 201


def test_no_file_at_all(api, world):
    response = api("acme").client.post("/api/crm-contacts/acme/import", {"mode": "commit_valid"},
                                       format="multipart")
    assert response.status_code == 400 and "file" in response.json()["errors"]


def test_rows_with_extra_or_missing_columns_get_row_messages(upload, world):
    text = "First name,Last name,Email\nAda,Lovelace,a@x.org\nGrace,Hopper,g@x.org,extra\nAlan,t@x.org\n" \
           "Trailing,Comma,tc@x.org,\n"
    response = upload("acme", text, preview=True)
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"create": 2, "update": 0, "skip": 0, "error": 2}
    found = issues(response)  # numbered by the line of the file, the header being line 1
    assert "4 columns, more than the header's 3" in found[3][0]
    assert "2 columns, fewer than the header's 3" in found[4][0]
    assert nothing_written(world)


def test_invalid_emails_phones_and_dates_are_named_per_row_and_column(upload, world):
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="birthday", label="Birthday", field_type="date")
        CustomField.objects.create(object_type="contact", name="active", label="Active", field_type="boolean")
        CustomField.objects.create(object_type="contact", name="site", label="Site", field_type="url")
    text = ("Email,Phone,Birthday,Active,Site,Country\n"
            "not-an-email,+1 415 555 0100,1990-01-31,yes,example.com,US\n"
            "ok@example.com,12345,1990-01-31,no,,\n"
            "ok2@example.com,,31/01/1990,,,\n"
            "ok3@example.com,,1990-02-30,maybe,not a url,Atlantis\n"
            "ok4@example.com,call me,,,,\n")
    response = upload("acme", text, preview=True)
    body = response.json()
    assert body["summary"]["error"] == 5 and body["summary"]["create"] == 0
    by_row = {i["row"]: {m["column"]: m for m in i["messages"]} for i in body["issues"]}
    assert by_row[2]["Email"]["code"] == "invalid_email" and "not-an-email" in by_row[2]["Email"]["message"]
    assert by_row[3]["Phone"]["code"] == "invalid_phone"
    assert "YYYY-MM-DD" in by_row[4]["Birthday"]["message"]
    assert set(by_row[5]) == {"Birthday", "Active", "Site", "Country"}
    assert "not a phone number" in by_row[6]["Phone"]["message"]
    assert body["errors_by_column"]["Birthday"] == 2
    assert nothing_written(world)


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","click")', "+SUM(A1:A3)", "-2+3",
                                  "@cmd", "=1+1"])
def test_formula_cells_are_data_stored_as_written_and_neutralised_on_export(upload, api, world, cell):
    quoted = '"' + cell.replace('"', '""') + '"'
    text = f"First name,Email,Phone\n{quoted},a@example.com,+1 415 555 0100\nAda,b@example.com,not a phone\n"
    job = upload("acme", text).json()
    assert job["created_count"] == 1 and job["error_count"] == 1, job
    with tenant_context(world.acme):
        assert Contact.objects.get(email="a@example.com").first_name == cell  # as written
    import csv
    import io

    exported = api("acme").get("/api/crm-contacts/acme/export")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[1][1] == "'" + cell  # neutralised where a spreadsheet would run it
    # the portal's own export imports back unchanged (the apostrophe is its, not the user's)
    again = upload("acme", "First name,Email\n" + '"' + ("'" + cell).replace('"', '""') + '",a@example.com\n').json()
    assert again["updated_count"] == 1
    with tenant_context(world.acme):
        assert Contact.objects.get(email="a@example.com").first_name == cell


def test_phone_numbers_and_negative_looking_values_are_not_formulas(upload, world):
    text = "First name,Phone,Mobile\nAda,+1 (415) 555-0100,+44 7911 123456\n"
    job = upload("acme", text).json()
    assert job["created_count"] == 1 and job["error_count"] == 0


def test_preview_never_writes_even_with_everything_valid(upload, world):
    response = upload("acme", "Email,Company\na@example.com,New Co\n", preview=True)
    assert response.status_code == 200 and response.json()["summary"]["create"] == 1
    assert nothing_written(world)


def test_declared_encoding_that_does_not_exist_is_a_field_error(upload, world):
    response = upload("acme", "Email\na@x.org\n", encoding="klingon-8")
    assert response.status_code == 400 and "encoding" in response.json()["errors"]


def test_a_file_that_is_not_valid_in_its_declared_encoding(upload, world):
    response = upload("acme", "Email,First name\na@x.org,Zoë\n".encode("latin-1"), encoding="utf-8")
    assert response.status_code == 400 and response.json()["code"] == "import_file_invalid"
    assert "not valid utf-8" in response.json()["detail"]
    assert nothing_written(world)


# --- dialects and encodings real exports use -------------------------------------------------
ROWS = [["First name", "Last name", "Email", "Notes"], ["Zoë", "Müller", "zoe@example.de", "line one\nline two"],
        ["José", "Núñez", "jose@example.es", 'says "hola"; ok']]


def as_csv(delimiter: str) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(ROWS)
    return buffer.getvalue()


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("encoding,prefix", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""),
                                             ("latin-1", b""), ("cp1252", b"")],
                         ids=["utf8", "utf8-bom", "utf16", "latin1", "cp1252"])
def test_dialects_and_encodings_are_detected(upload, world, delimiter, encoding, prefix):
    content = prefix + as_csv(delimiter).encode(encoding)
    response = upload("acme", content)
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["created_count"] == 2 and job["error_count"] == 0, job
    with tenant_context(world.acme):
        zoe = Contact.objects.get(email="zoe@example.de")
        jose = Contact.objects.get(email="jose@example.es")
    assert (zoe.first_name, zoe.last_name, zoe.notes) == ("Zoë", "Müller", "line one\nline two")
    assert (jose.last_name, jose.notes) == ("Núñez", 'says "hola"; ok')


def test_utf16_without_bom_and_declared_latin1(upload, world):
    content = as_csv(",").encode("utf-16-le")
    assert upload("acme", content).json()["created_count"] == 2
    with tenant_context(world.acme):
        Contact.objects.all().delete()
    assert upload("acme", as_csv(";").encode("latin-1"), encoding="latin-1").json()["created_count"] == 2


def test_a_header_without_rows_imports_nothing_cleanly(upload, world):
    preview = upload("acme", "First name,Email\n", preview=True)
    assert preview.status_code == 200 and preview.json()["rows"] == 0
    assert preview.json()["summary"] == {"create": 0, "update": 0, "skip": 0, "error": 0}
    job = upload("acme", "First name,Email\n").json()
    assert job["status"] == "completed" and job["created_count"] == 0 and job["progress"]["percent"] == 100.0
