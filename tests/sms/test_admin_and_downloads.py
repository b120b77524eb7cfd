"""The admin pages (providers on the platform admin, the message log and settings per tenant),
the adapters' downloads, and each adapter's own test suite in its own language."""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from tests.sms.conftest import ACME_DID, CONTACT_PHONE

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters" / "sms"


@pytest.mark.parametrize("lang,must_have", [
    ("perl", {"README.md", "thirdlane-sms-adapter.pl", "t/adapter.t"}),
    ("python", {"README.md", "thirdlane_sms_adapter.py", "tests/test_adapter.py"}),
    ("node", {"README.md", "adapter.js", "package.json", "test/adapter.test.js"}),
])
def test_each_adapter_downloads_as_a_zip_of_its_directory(client, db, lang, must_have):
    response = client.get(f"/api/sms/adapters/{lang}.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"thirdlane-sms-adapter-{lang}.zip" in response["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    prefix = f"thirdlane-sms-adapter-{lang}/"
    assert must_have <= {n[len(prefix):] for n in names} and all(n.startswith(prefix) for n in names)
    program = next(n for n in names if n.endswith(("adapter.pl", "adapter.py", "adapter.js")))
    assert zipfile.ZipFile(io.BytesIO(response.content)).read(program) == \
        (ADAPTERS / lang / program[len(prefix):]).read_bytes()


def test_an_unknown_adapter_language_is_a_problem_404(client, db):
    response = client.get("/api/sms/adapters/cobol.zip")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/problem+json")


def test_the_api_docs_link_the_downloads(client, db):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/sms/adapters/{lang}.zip" in schema["paths"]
    assert "/api/sms/adapters/python.zip" in schema["info"]["description"]


@pytest.mark.parametrize("lang,command", [
    ("perl", ["prove", "t/"]),
    ("python", ["python3", "-m", "unittest", "discover", "-s", "tests"]),
    ("node", ["node", "--test", "test/"]),
])
def test_each_adapters_own_tests_pass(lang, command):
    assert shutil.which(command[0]), f"{command[0]} missing: scripts/ensure_test_deps.sh installs it"
    result = subprocess.run(command, cwd=ADAPTERS / lang, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_providers_in_the_platform_admin_show_the_key_once_and_stay_in_scope(client, sms, world, system_actor):
    from apps.sms.providers.models import SmsProvider
    from apps.sms.providers.services import provider_create

    foreign = provider_create(actor=system_actor, name="Two's", url="http://127.0.0.1:9/t",
                              reseller=world.other_reseller)
    client.force_login(world.users["reseller"])
    listing = client.get("/admin/sms_providers/smsprovider/")
    assert listing.status_code == 200
    assert b"Two&#x27;s" not in listing.content and b"Two's" not in listing.content
    assert client.get(f"/admin/sms_providers/smsprovider/{foreign.pk}/change/").status_code == 404
    response = client.post("/admin/sms_providers/smsprovider/add/", {
        "name": "Acme carrier", "tenant": world.acme.pk, "url": "https://adapter.example.com/messages",
        "enabled": "on", "timeout_seconds": "10"}, follow=True)
    assert response.status_code == 200
    created = SmsProvider.objects.get(name="Acme carrier")
    assert created.tenant_id == world.acme.pk and created.created_by
    text = response.content.decode()
    assert "Provider key (shown once): smsk_" in text and f"/api/sms/inbound/{created.public_id}" in text
    page = client.get(f"/admin/sms_providers/smsprovider/{created.pk}/change/").content.decode()
    assert "/api/sms/adapters/perl.zip" in page and created.secret not in page


def test_the_tenant_admin_shows_the_message_log_and_sets_the_segment_limit(client, api, sms, world, no_celery):
    from apps.sms.models import SmsSettings

    api("acme").post("/api/sms/acme/messages/", {"from": ACME_DID, "to": CONTACT_PHONE, "text": "logged"})
    client.force_login(world.users["acme_admin"])
    log = client.get("/t/acme/admin/sms/smsmessage/?status=queued")
    assert log.status_code == 200 and b"logged" in log.content
    assert client.get("/t/acme/admin/sms/smsmessage/add/").status_code == 403
    response = client.post("/t/acme/admin/sms/smssettings/add/", {"max_segments": "3", "rate_per_minute": ""})
    assert response.status_code == 302
    with tenant_context(world.acme):
        assert SmsSettings.objects.get().max_segments == 3
    assert client.get("/t/acme/admin/telephony/did/?sms_enabled__exact=1").status_code == 200
