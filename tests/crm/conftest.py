"""CRM test helpers: run code in a tenant's schema, upload CSV files to the import endpoints."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.accounts.principal import Principal


@pytest.fixture
def in_acme(world):
    """``with in_acme(): ...`` runs with acme's schema active."""
    return lambda: tenant_context(world.acme)


@pytest.fixture
def actor():
    return Principal.system("tests")


def csv_upload(text: str | bytes, name: str = "contacts.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    data = text.encode(encoding) if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def upload(api):
    """``upload("acme", csv_text, preview=False, **fields)`` -> response of the import endpoint."""
    def send(key: str, content, *, preview: bool = False, tenant: str = "acme", name: str = "contacts.csv",
             file_encoding: str = "utf-8", **fields):
        path = f"/api/crm-contacts/{tenant}/import" + ("/preview" if preview else "")
        import json

        data = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in fields.items()}
        data["file"] = csv_upload(content, name, file_encoding)
        return api(key).client.post(path, data, format="multipart")
    return send
