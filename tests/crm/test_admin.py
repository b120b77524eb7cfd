"""The CRM in the tenant admin: every object's pages, custom fields on forms, and the import flow
(upload -> map -> preview -> confirm -> progress)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from apps.crm.models import Contact, CustomField, ImportJob, ImportMap
from apps.events.models import OutboxEvent

pytestmark = pytest.mark.django_db

MODELS = ["contact", "account", "lead", "contactlist", "customfield", "activity", "task", "campaign", "deal",
          "dealstage", "importmap", "importjob"]


@pytest.fixture
def admin_client(world):
    client = Client()
    assert client.login(username="acme-admin", password="pw-acme-1")
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_crm_page_opens_in_the_tenant_admin(admin_client, world, model):
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="tier", label="Tier", field_type="choice",
                                   choices=["gold", "silver"])
    response = admin_client.get(f"/t/acme/admin/crm/{model}/")
    assert response.status_code == 200, (model, response.status_code)
    add = admin_client.get(f"/t/acme/admin/crm/{model}/add/", follow=True)
    assert add.status_code == 200


def test_other_tenants_admin_is_a_404(admin_client, world):
    assert admin_client.get("/t/globex/admin/crm/contact/").status_code == 404


def test_admin_contact_form_normalises_phones_validates_custom_fields_and_emits_events(admin_client, world):
    with tenant_context(world.acme):
        CustomField.objects.create(object_type="contact", name="tier", label="Tier", field_type="choice",
                                   choices=["gold", "silver"], required=True)
        CustomField.objects.create(object_type="contact", name="seats", label="Seats", field_type="number")
    base = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "tags": "",
            "cf_seats": "12"}
    bad = admin_client.post("/t/acme/admin/crm/contact/add/", {**base, "phone": "not a phone", "cf_tier": ""})
    assert bad.status_code == 200
    errors = bad.context["adminform"].form.errors
    assert "phone" in errors and "cf_tier" in errors
    ok = admin_client.post("/t/acme/admin/crm/contact/add/", {**base, "phone": "(415) 555-0100", "cf_tier": "gold"})
    assert ok.status_code == 302, ok.context["adminform"].form.errors if ok.context else ok
    with tenant_context(world.acme):
        contact = Contact.objects.get(email="ada@example.com")
    assert contact.phone == "+14155550100" and contact.custom == {"tier": "gold", "seats": 12}
    edit = admin_client.get(f"/t/acme/admin/crm/contact/{contact.pk}/change/")
    assert b'value="12"' in edit.content
    changed = admin_client.post(f"/t/acme/admin/crm/contact/{contact.pk}/change/",
                                {**base, "phone": "+14155550100", "cf_tier": "silver", "cf_seats": ""})
    assert changed.status_code == 302
    with tenant_context(world.acme):
        assert Contact.objects.get(pk=contact.pk).custom == {"tier": "silver"}
    types = list(OutboxEvent.objects.filter(tenant_id=world.acme.pk, type__startswith="crm.contact")
                 .values_list("type", flat=True))
    assert types == ["crm.contact.created", "crm.contact.updated"]


def test_admin_import_flow_upload_map_preview_confirm_progress(admin_client, world):
    text = "Mail,Name,Telephone,Ignore me\nada@example.com,Ada Lovelace,(415) 555-0100,x\nbad,Bad Row,12,y\n"
    upload = admin_client.post("/t/acme/admin/crm/importjob/upload/",
                               {"file": SimpleUploadedFile("c.csv", text.encode(), content_type="text/csv")})
    assert upload.status_code == 302, upload.content[:500]
    with tenant_context(world.acme):
        job = ImportJob.objects.get()
    assert job.status == "draft" and upload["Location"].endswith(f"/importjob/{job.pk}/map/")
    page = admin_client.get(upload["Location"])
    assert page.status_code == 200
    preview = page.context["preview"]
    assert preview["summary"] == {"create": 1, "update": 0, "skip": 0, "error": 1}
    assert preview["mapping"]["Mail"]["field"] == "email" and preview["mapping"]["Ignore me"]["field"] == ""
    assert b"import-summary" in page.content and b"+14155550100" in page.content
    with tenant_context(world.acme):
        assert not Contact.objects.exists()  # preview wrote nothing
    form = {"col_0_field": "email", "col_0_transforms": ["trim", "lower"], "col_1_field": "full_name",
            "col_1_transforms": ["trim", "split_name"], "col_2_field": "phone", "col_2_transforms": ["trim", "phone"],
            "col_3_field": "", "dedupe_on": "email", "on_match": "update", "mode": "commit_valid",
            "save_map": "From admin", "confirm": "1"}
    confirmed = admin_client.post(upload["Location"], form)
    assert confirmed.status_code == 302 and confirmed["Location"].endswith(f"/importjob/{job.pk}/progress/")
    with tenant_context(world.acme):
        assert ImportJob.objects.get().status == "queued"
        assert ImportMap.objects.get(name="From admin").columns["Name"]["field"] == "full_name"
    progress = admin_client.get(confirmed["Location"])
    assert progress.status_code == 200 and b"import-progress" in progress.content and b"status.json" in progress.content
    from apps.crm.tasks import run_import

    with tenant_context(world.acme):
        run_import(world.acme.pk, job.pk)
    status = admin_client.get(f"/t/acme/admin/crm/importjob/{job.pk}/status.json").json()
    assert status["status"] == "completed" and status["progress"]["percent"] == 100.0
    assert status["created_count"] == 1 and status["error_count"] == 1
    with tenant_context(world.acme):
        ada = Contact.objects.get()
    assert (ada.first_name, ada.last_name, ada.phone) == ("Ada", "Lovelace", "+14155550100")
    errors = admin_client.get(f"/t/acme/admin/crm/importjob/{job.pk}/errors.csv")
    assert errors.status_code == 200 and b"bad,Bad Row,12,y" in errors.content
    # The admin's undo action.
    undo = admin_client.post("/t/acme/admin/crm/importjob/", {"action": "undo", "_selected_action": [job.pk]})
    assert undo.status_code == 302
    with tenant_context(world.acme):
        assert not Contact.objects.exists() and ImportJob.objects.get().status == "undone"


def test_admin_upload_of_a_bad_file_shows_the_reason(admin_client, world):
    response = admin_client.post("/t/acme/admin/crm/importjob/upload/",
                                 {"file": SimpleUploadedFile("x.csv", b"a,a\n1,2\n", content_type="text/csv")})
    assert response.status_code == 200 and b"Duplicate column names" in response.content
    with tenant_context(world.acme):
        assert not ImportJob.objects.exists()


def test_read_only_user_cannot_import_in_the_admin(world):
    from apps.accounts.models import User

    User.objects.create_user("ro", "ro@example.com", "pw-ro-1", role=User.Role.READ_ONLY, tenant=world.acme,
                             is_staff=True)
    client = Client()
    assert client.login(username="ro", password="pw-ro-1")
    assert client.get("/t/acme/admin/crm/contact/").status_code == 200
    response = client.post("/t/acme/admin/crm/importjob/upload/",
                           {"file": SimpleUploadedFile("c.csv", b"Email\na@x.org\n")})
    assert response.status_code == 403


def test_resellers_manage_their_tenants_crm_only(world):
    client = Client()
    assert client.login(username="reseller", password="pw-reseller-1")
    assert client.get("/t/acme/admin/crm/contact/").status_code == 200
    assert client.get("/t/globex/admin/crm/importjob/upload/").status_code == 200
    assert client.get("/t/initech/admin/crm/contact/").status_code == 404


def test_import_map_page_labels_transforms_and_previews_in_the_files_column_order(admin_client, world):
    from apps.crm.admin import TRANSFORM_CHOICES
    from apps.crm.importer.mapping import TRANSFORMS

    # Every transform the map offers has a name for people (date and default have their own inputs).
    assert {value for value, _ in TRANSFORM_CHOICES} == TRANSFORMS - {"default", "date"}
    text = "Telephone,Mail,Full Name\n(415) 555-0100,ada@example.com,Ada Lovelace\n"
    upload = admin_client.post("/t/acme/admin/crm/importjob/upload/",
                               {"file": SimpleUploadedFile("c.csv", text.encode(), content_type="text/csv")})
    page = admin_client.get(upload["Location"])
    html = page.content.decode()
    # Each checkbox sits inside its own label, which names the transform for people.
    assert '<input type="checkbox" id="col_0_t_phone" name="col_0_transforms" value="phone"' in html
    assert 'for="col_0_t_phone"' in html and "Phone number to E.164</label>" in html
    assert "> collapse_spaces" not in html
    # The preview: the file's column names, in the file's order, with the stored values.
    assert [c["header"] for c in page.context["sample_columns"]] == ["Telephone", "Mail", "Full Name"]
    assert page.context["sample_rows"][0]["cells"] == ["+14155550100", "ada@example.com", "Ada Lovelace"]
    sample = html[html.index('id="import-sample"'):]
    assert sample.index(">Telephone<") < sample.index(">Mail<") < sample.index(">Full Name<")
    assert "Preview of the whole file (1 row)" in html


def test_admin_messages_count_with_the_right_plural(admin_client, world):
    from apps.accounts.principal import Principal
    from apps.crm import services

    with tenant_context(world.acme):
        one = services.contact_create(actor=Principal.system("t"), tenant=world.acme, first_name="Ada")
        two = services.contact_create(actor=Principal.system("t"), tenant=world.acme, first_name="Bob")
    for ids, expected in (([one.pk], "Added 1 contact to the list"), ([one.pk, two.pk], "Added 1 contact to")):
        response = admin_client.post("/t/acme/admin/crm/contact/", {"action": "add_to_list", "_selected_action": ids},
                                     follow=True)
        assert expected in response.content.decode()
    response = admin_client.post("/t/acme/admin/crm/contact/", {"action": "add_to_list", "list_name": "Fresh",
                                                                "_selected_action": [one.pk, two.pk]}, follow=True)
    assert "Added 2 contacts to the list" in response.content.decode()
