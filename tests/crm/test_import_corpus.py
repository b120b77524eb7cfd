"""A corpus of hostile and international CSV files (issue #14), written here, each with the rows,
errors and values its import must give. Every file goes through the real endpoint (preview, then
import) as back-office staff would send it.

Errors are numbered by the line of the file the record starts on, the header being line 1.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field

import pytest
from django_tenants.utils import tenant_context

from apps.crm.models import Contact

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    text: str
    created: int
    errors: dict = field(default_factory=dict)  # line -> code
    values: dict = field(default_factory=dict)  # e-mail -> {field: value}
    skipped: int = 0
    encoding: str = "utf-8"
    file_error: str = ""  # a 400 whose detail contains this


CORPUS = {
    # national numbers read with each row's country, in every way a country is written
    "national_phones_by_country": Case(
        "First name,Last name,Email,Phone,Country\n"
        "Aarav,Shah,aarav@ex.example,0729 755 2895,India\n"
        "Élodie,Château,elodie@ex.example,065 357 42 88,France\n"
        "Jürgen,Groß,juergen@ex.example,030 901820,DE\n"
        "Ada,Lovelace,ada@ex.example,(415) 555-2671,\n"
        "Sven,Öberg,sven@ex.example,08-123 456 78,Sverige\n"
        "Mario,Rossi,mario@ex.example,06 6988 1234,Italia\n",
        created=6,
        values={"aarav@ex.example": {"phone": "+917297552895", "country": "IN"},
                "elodie@ex.example": {"phone": "+33653574288", "first_name": "Élodie"},
                "juergen@ex.example": {"phone": "+4930901820"},
                "ada@ex.example": {"phone": "+14155552671"},  # no country: the tenant's region
                "sven@ex.example": {"phone": "+46812345678", "country": "SE"},
                "mario@ex.example": {"phone": "+390669881234"}}),
    # the country at the end of the address when there is no country column
    "country_in_the_address": Case(
        "Name,Email,Phone,Street\n"
        "Anna Gruber,anna@ex.example,01 5127 000,\"Stephansplatz 1, 1010 Wien, Österreich\"\n"
        "Bo Li,bo@ex.example,(212) 555-0143,\"1 Main St, New York\"\n",
        created=2, values={"anna@ex.example": {"phone": "+4315127000", "first_name": "Anna"},
                           "bo@ex.example": {"phone": "+12125550143"}}),
    # a national number that is not valid where the row says it is: the error names the region
    "wrong_country_for_the_number": Case(
        "Email,Phone,Country\nx@ex.example,065 357 42 88,United States\ny@ex.example,030 901820,\n",
        created=0, errors={2: "invalid_phone", 3: "invalid_phone"}),
    # e-mails Django's EmailValidator refuses
    "invalid_emails": Case(
        "Email,First name\nx..y@ex.example,A\n.lead@ex.example,B\nelodie..chateau@postbox.net,C\n"
        "brian.taylor@-meridian-systems.io,D\nfine.name+tag@sub.ex.example,E\n",
        created=1, errors={2: "invalid_email", 3: "invalid_email", 4: "invalid_email", 5: "invalid_email"}),
    # formula cells are data
    "formula_cells": Case(
        'First name,Email,Website note\n"=HYPERLINK(""http://x.example"",""go"")",f@ex.example,x\n'
        "@SUM(A1),g@ex.example,y\n",
        created=2, values={"f@ex.example": {"first_name": '=HYPERLINK("http://x.example","go")'},
                           "g@ex.example": {"first_name": "@SUM(A1)"}}),
    # two numbers in one phone cell: a phone-list problem, not a formula
    "two_phones_in_one_cell": Case(
        "Email,Phone\np@ex.example,+1 415-555-2671 ::: +1 415-555-2672\nq@ex.example,+1 415-555-2673; +1 415-555-2674\n"
        "r@ex.example,+1 415-555-2675\n",
        created=1, errors={2: "multiple_phones", 3: "multiple_phones"}),
    # an unterminated quote at the end of the file: refused, naming its line
    "unterminated_quote_at_the_end": Case(
        'Email,First name,Notes\na@ex.example,Ann,ok\nb@ex.example,"Bob,oops\nc@ex.example,Cy,lost\n'
        "d@ex.example,Di,lost\n",
        created=0, file_error="Line 3"),
    # an unterminated quote closed much later by another quote: the swallowing record is reported
    "unterminated_quote_in_the_middle": Case(
        'Email,First name,Notes\na@ex.example,Ann,"x\nb@ex.example,Bob,y\nc@ex.example,Cy,z\nd@ex.example,Di,"w"\n'
        "e@ex.example,Eve,v\n",
        created=1, errors={2: "unterminated_quote"}),
    # quoted cells with line breaks: the lines after them are numbered as an editor shows them
    "line_numbers_after_multiline_cells": Case(
        'Email,Notes,Phone\na@ex.example,"one\ntwo\nthree",\nb@ex.example,plain,not a phone\n',
        created=1, errors={5: "invalid_phone"}),
    # Excel in Europe: semicolons, Windows-1252, decimal commas in text
    "excel_semicolon_cp1252": Case(
        "Vorname;Nachname;E-Mail;Telefon;Land\r\nJürgen;Groß;j@ex.example;089 1234567;Deutschland\r\n"
        "Zoë;Ærø;z@ex.example;+45 32 12 34 56;DK\r\n",
        created=2, encoding="cp1252",
        values={"j@ex.example": {"last_name": "Groß", "phone": "+49891234567"},
                "z@ex.example": {"first_name": "Zoë", "phone": "+4532123456"}}),
    # UTF-16 with a BOM, tab-separated (Excel's "Unicode text"), names in several scripts
    "utf16_tabs_many_scripts": Case(
        "First Name\tLast Name\tEmail\tMobile Phone\tCountry\n"
        "Дмитрий\tИванов\td@ex.example\t8 (912) 345-67-89\tРоссия\n"
        "さくら\t佐藤\ts@ex.example\t090-1234-5678\t日本\n"
        "Γιώργος\tΠαπαδόπουλος\tg@ex.example\t+30 691 234 5678\tGreece\n",
        created=3, encoding="utf-16",
        values={"d@ex.example": {"first_name": "Дмитрий", "mobile": "+79123456789", "country": "RU"},
                "s@ex.example": {"last_name": "佐藤", "mobile": "+819012345678", "country": "JP"},
                "g@ex.example": {"mobile": "+306912345678"}}),
    # a HubSpot-style export: BOM, CRLF, quoted everything, duplicates in the file
    "hubspot_like_export": Case(
        "\ufeff\"First Name\",\"Last Name\",\"Email\",\"Phone Number\",\"Country/Region\"\r\n"
        "\"Liam\",\"Tremblay\",\"liam@ex.example\",\"(514) 555-0199\",\"Canada\"\r\n"
        "\"Liam\",\"Tremblay\",\"LIAM@ex.example\",\"(514) 555-0199\",\"Canada\"\r\n",
        created=1, skipped=1, values={"liam@ex.example": {"phone": "+15145550199", "country": "CA"}}),
}


def _payload(case: Case) -> bytes:
    if case.encoding == "utf-16":
        return codecs.BOM_UTF16_LE + case.text.encode("utf-16-le")
    return case.text.encode(case.encoding)


@pytest.mark.parametrize("name", list(CORPUS))
def test_corpus_file(upload, world, name):
    case = CORPUS[name]
    content = _payload(case)
    preview = upload("acme", content, preview=True)
    if case.file_error:
        assert preview.status_code == 400, preview.content
        assert preview.json()["code"] == "import_file_invalid" and case.file_error in preview.json()["detail"]
        job = upload("acme", content)
        assert job.status_code == 400 and case.file_error in job.json()["detail"]
        with tenant_context(world.acme):
            assert not Contact.objects.exists()
        return
    assert preview.status_code == 200, preview.content
    body = preview.json()
    found = {i["line"]: i["messages"][0]["code"] for i in body["issues"] if i["level"] == "error"}
    assert found == case.errors, body["issues"]
    assert body["summary"]["create"] == case.created and body["summary"]["skip"] == case.skipped
    job = upload("acme", content).json()
    assert (job["created_count"], job["error_count"], job["skipped_count"]) == (
        case.created, len(case.errors), case.skipped), job
    with tenant_context(world.acme):
        for email, expected in case.values.items():
            contact = Contact.objects.get(email=email)
            assert {k: getattr(contact, k) for k in expected} == expected, email


def test_the_error_names_the_region_and_where_it_came_from(upload, world):
    body = upload("acme", CORPUS["wrong_country_for_the_number"].text, preview=True).json()
    by_line = {i["line"]: i["messages"][0]["message"] for i in body["issues"]}
    assert "region US" in by_line[2] and "the row's country" in by_line[2]
    assert "region US" in by_line[3] and "tenant's default region" in by_line[3]


def test_the_unterminated_quote_is_refused_before_any_batch_of_a_big_job_is_written(upload, world, monkeypatch):
    from apps.crm.importer import pipeline

    monkeypatch.setattr(pipeline, "PIPELINE_BATCH_ROWS", 2)
    text = "Email,First name\n" + "".join(f"u{i}@ex.example,U{i}\n" for i in range(10)) + 'z@ex.example,"Zed\n'
    response = upload("acme", text)
    assert response.status_code == 400 and "Line 12" in response.json()["detail"]
    with tenant_context(world.acme):
        assert not Contact.objects.exists()


BAD_EMAILS = ["x..y@ex.example", ".lead@ex.example", "elodie..chateau@postbox.net",
              "brian.taylor@-meridian-systems.io", "a@b", "zoë@example.de", "a.@b.example", "a@b..example",
              "two@@ex.example", "sp ace@ex.example"]
GOOD_EMAILS = ["ada@ex.example", "o'neil@ex.example", "first.last+tag@sub.ex.example", "x@münchen.example"]


@pytest.mark.parametrize("email", BAD_EMAILS + GOOD_EMAILS)
def test_the_api_and_the_importer_accept_and_refuse_the_same_emails(api, upload, world, email):
    by_api = api("acme").post("/api/crm-contacts/acme/", {"first_name": "T", "email": email})
    quoted = '"' + email.replace('"', '""') + '"'
    by_import = upload("acme", f"First name,Email\nT,{quoted}\n", preview=True).json()
    api_refused = by_api.status_code == 400
    import_refused = by_import["summary"]["error"] == 1
    assert api_refused == import_refused == (email in BAD_EMAILS), (by_api.content, by_import["issues"])
    if api_refused:
        assert "email" in by_api.json()["errors"]
        assert by_import["issues"][0]["messages"][0]["code"] == "invalid_email"
