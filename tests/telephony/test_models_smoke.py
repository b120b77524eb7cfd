import pytest
from django_tenants.utils import tenant_context

from apps.pbx.models import Location
from apps.telephony.models import Did, Extension

pytestmark = pytest.mark.django_db


def test_tenant_schema_has_telephony_tables_with_a_location_reference(world):
    location = Location.objects.create(name="Paris", code="par")
    with tenant_context(world.acme):
        ext = Extension.objects.create(number="1001", name="A", location=location, sip_secret="S3cret-Secret-x")
        ext.refresh_from_db()
        assert ext.sip_secret == "S3cret-Secret-x"
        assert ext.phone_username == "1001-acme"
        assert ext.location == location
        did = Did.objects.create(number="+14155550100", dest={"type": "extension", "id": ext.pk})
        assert did.dest.id == ext.pk
    with tenant_context(world.globex):
        assert not Extension.objects.exists()
