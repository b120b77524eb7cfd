"""Creating tenant schemas: from the pool, by DDL replay when it is empty, by migrations without pg_dump."""
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.tenants import schemas
from apps.tenants.migrating import behind_schemas
from apps.tenants.services import tenant_create

pytestmark = pytest.mark.django_db


def _usable(tenant) -> None:
    """The schema is current and its identity columns work (sequences were recreated, not shared)."""
    assert behind_schemas([tenant.schema_name]) == []
    from apps.telephony.models import Schedule

    with tenant_context(tenant):
        first = Schedule.objects.create(name="Office hours", timezone="UTC")
        second = Schedule.objects.create(name="Weekend", timezone="UTC")
        assert second.pk == first.pk + 1
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schemas.template_schema()}".telephony_schedule')
        assert cursor.fetchone()[0] == 0, "the template must stay empty"


def test_creation_takes_a_spare_from_the_pool(world, system_actor, caplog):
    spares = schemas.pool_schemas()
    assert spares
    tenant = tenant_create(actor=system_actor, slug="pooled", name="Pooled", reseller=world.reseller)
    assert len(schemas.pool_schemas()) == len(spares) - 1
    assert tenant.schema_name not in spares and schemas.schema_exists(tenant.schema_name)
    _usable(tenant)


def test_with_an_empty_pool_the_schema_is_built_from_the_templates_ddl(world, system_actor):
    schemas.empty_pool()  # rolled back with the test
    assert schemas.template_ddl() is not None
    tenant = tenant_create(actor=system_actor, slug="built", name="Built", reseller=world.reseller)
    _usable(tenant)


def test_without_pg_dump_the_schema_is_built_by_migrations(world, system_actor, monkeypatch):
    schemas.empty_pool()
    schemas._ddl_cache.clear()
    monkeypatch.setattr(schemas.shutil, "which", lambda name: None)
    assert schemas.build_schema("t_by_migrations") == "migrate"
    assert behind_schemas(["t_by_migrations"]) == []


def test_a_failed_creation_gives_the_spare_back(world, system_actor):
    from django.db import transaction

    spares = schemas.pool_schemas()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            tenant_create(actor=system_actor, slug="doomed", name="Doomed", reseller=world.reseller)
            raise RuntimeError("after the rename")
    assert schemas.pool_schemas() == spares
    assert not schemas.schema_exists("t_doomed")
