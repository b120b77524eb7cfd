"""CSV import/export of extensions and DIDs: through the services, no secrets out, formulas defused."""
import pytest
import tablib
from django_tenants.utils import tenant_context

from apps.events.models import OutboxEvent
from apps.telephony import services
from apps.telephony.models import Did, Extension
from apps.telephony.resources import DidResource, ExtensionResource

pytestmark = pytest.mark.django_db
SECRET = "Str0ng-Secret-xyz"
EVIL = "=HYPERLINK(\"http://evil.example\",\"x\")"


def export_csv(resource_class, tenant) -> str:
    with tenant_context(tenant):
        return resource_class(tenant=tenant).export().csv


def import_csv(resource_class, tenant, actor, text, dry_run=False):
    with tenant_context(tenant):
        dataset = tablib.Dataset().load(text, format="csv")
        return resource_class(tenant=tenant, actor=actor).import_data(dataset, dry_run=dry_run, use_transactions=True)


def test_extensions_round_trip_without_secrets_and_with_formulas_defused(world, system_actor):
    with tenant_context(world.acme):
        services.extension_create(actor=system_actor, tenant=world.acme, number="1001", name=EVIL,
                                  sip_secret=SECRET, voicemail_pin="482913", codecs=["opus", "ulaw"])
        services.extension_create(actor=system_actor, tenant=world.acme, number="1002", name="-1+2",
                                  caller_id_number="+14155550100")
    text = export_csv(ExtensionResource, world.acme)
    assert SECRET not in text and "482913" not in text
    assert "sip_secret" not in text and "voicemail_pin" not in text
    assert "'=HYPERLINK" in text and "'-1+2" in text
    assert "+14155550100" in text and "'+1415" not in text  # a plain number stays readable
    assert "opus,ulaw" in text

    result = import_csv(ExtensionResource, world.globex, system_actor, text)
    assert not result.has_errors() and not result.has_validation_errors()
    with tenant_context(world.globex):
        rows = {e.number: e for e in Extension.objects.all()}
    assert rows["1001"].name == EVIL and rows["1001"].codecs == ["opus", "ulaw"]
    assert rows["1002"].name == "-1+2"
    assert rows["1001"].sip_secret and rows["1001"].sip_secret != SECRET  # a fresh generated secret
    assert OutboxEvent.objects.filter(tenant_id=world.globex.pk, type="config.extension.created").count() == 2


def test_import_updates_existing_rows_and_reports_bad_ones_without_saving_anything(world, system_actor):
    with tenant_context(world.acme):
        services.extension_create(actor=system_actor, tenant=world.acme, number="1001", name="Old")
    text = "number,name,sip_secret\n1001,New name,\n1002,Bob,weak\n1003,Carol,\n"
    result = import_csv(ExtensionResource, world.acme, system_actor, text)
    assert result.has_validation_errors()
    invalid = result.invalid_rows
    assert len(invalid) == 1 and "sip_secret" in invalid[0].error_dict
    with tenant_context(world.acme):
        assert list(Extension.objects.values_list("number", "name")) == [("1001", "Old")]
    text = "number,name\n1001,New name\n1003,Carol\n"
    result = import_csv(ExtensionResource, world.acme, system_actor, text)
    assert not result.has_errors() and not result.has_validation_errors()
    with tenant_context(world.acme):
        assert list(Extension.objects.values_list("number", "name")) == [("1001", "New name"), ("1003", "Carol")]


def test_import_applies_the_number_plan(world, system_actor):
    result = import_csv(ExtensionResource, world.acme, system_actor, "number,name\n12,Short\n")
    assert result.has_validation_errors() and "number" in result.invalid_rows[0].error_dict


def test_dids_import_normalises_and_checks_platform_uniqueness(world, system_actor):
    with tenant_context(world.initech):
        services.did_create(actor=system_actor, tenant=world.initech, number="+14155550199")
    with tenant_context(world.acme):
        ext = services.extension_create(actor=system_actor, tenant=world.acme, number="1001", name="A")
    text = (f"number,description,dest_type,dest_id,dest_number\n"
            f"(415) 555-0100,Main,extension,{ext.pk},\n"
            f"415-555-0101,Fax,external,,+14155550123\n")
    result = import_csv(DidResource, world.acme, system_actor, text)
    assert not result.has_errors() and not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
    with tenant_context(world.acme):
        assert sorted(Did.objects.values_list("number", "dest_type")) == [("+14155550100", "extension"),
                                                                          ("+14155550101", "external")]
    # the same file again updates (matched on E.164) instead of failing
    assert not import_csv(DidResource, world.acme, system_actor, text).has_validation_errors()
    result = import_csv(DidResource, world.acme, system_actor, "number,description\n+14155550199,Taken\n")
    assert result.has_validation_errors() and "number" in result.invalid_rows[0].error_dict
    exported = export_csv(DidResource, world.acme)
    assert "+14155550100" in exported and "'+1" not in exported
