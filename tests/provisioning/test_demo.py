"""The demo (``manage.py seed_demo``) has a phone of each vendor in acme, and prints how to fetch
the Yealink's file as the phone would."""
import io
import re

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from tests.provisioning.conftest import digest

pytestmark = pytest.mark.django_db


def test_demo_phones_and_the_printed_fetch(monkeypatch, client):
    from apps.provisioning.models import Phone
    from apps.tenants.models import Tenant

    monkeypatch.setenv("DEMO_PASSWORD", "demo-pw-1")
    out = io.StringIO()
    call_command("seed_demo", base_url="http://testserver", stdout=out)
    with tenant_context(Tenant.objects.get(slug="acme")):
        phones = {p.vendor: [line.extension.number for line in p.lines.all()] for p in Phone.objects.all()}
    assert phones == {"yealink": ["1001", "1005"], "polycom": ["1002"], "grandstream": ["1003", "1005"]}
    mac, password, path = re.search(r"curl -s --digest -u (\w+):(\S+) http://testserver(/provisioning/\S+)",
                                    out.getvalue()).groups()
    response = digest(client, path, mac, password)
    assert response.status_code == 200 and b"account.2.user_name = 1005-acme" in response.content
    again = io.StringIO()
    call_command("seed_demo", base_url="http://testserver", stdout=again)
    assert "phone" not in again.getvalue()
