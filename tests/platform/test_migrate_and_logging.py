"""migrate_tenants finds behind schemas with one query; logs are structured and secret-free."""
import json
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.tenants.migrating import behind_schemas
from thirdlane.logging import JsonFormatter, mask_secrets

pytestmark = pytest.mark.django_db


def test_behind_schemas_uses_one_query_for_many_schemas(world, django_assert_num_queries):
    names = [world.acme.schema_name, world.globex.schema_name, world.initech.schema_name]
    with django_assert_num_queries(2):  # the catalog lookup, then one UNION ALL over every schema
        assert behind_schemas(names) == []


def test_migrate_tenants_migrates_only_the_schema_that_is_behind(world, capsys):
    from apps.tenants.models import Tenant

    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "t_fresh"')
    Tenant.objects.create(slug="fresh", name="Fresh", reseller=world.reseller, schema_name="t_fresh")
    assert behind_schemas(["t_fresh", world.acme.schema_name]) == ["t_fresh"]
    with pytest.raises(CommandError):
        call_command("migrate_tenants", check=True)
    call_command("migrate_tenants", no_progress=True)
    out = capsys.readouterr().out
    assert "4 tenant schema(s), 1 behind." in out and "1 migrated, 3 current" in out
    assert behind_schemas(["t_fresh"]) == []
    call_command("migrate_tenants", check=True)


def test_migrate_tenants_rejects_unknown_tenants_and_bad_parallel(world):
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("migrate_tenants", tenant=["nope"])
    with pytest.raises(CommandError, match="--parallel"):
        call_command("migrate_tenants", parallel=0)


@pytest.mark.parametrize("text", [
    "password=hunter2", "secret: s3cr3t-value", "X-API-Key: tl_abcdefgh_0123456789abcdefghij0123456789ab",
    "key tl_abcdefgh_0123456789abcdefghij0123456789ab used", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    '{"sip_secret": "Very$ecret123"}',
])
def test_secrets_are_masked_in_log_text(text):
    masked = mask_secrets(text)
    for secret in ("hunter2", "s3cr3t-value", "0123456789abcdefghij", "MfKQ9r8GKYqrTwjUPD8", "Very$ecret123"):
        assert secret not in masked


def test_api_log_lines_carry_request_id_tenant_and_actor(api, world, caplog):
    from thirdlane.context import request_id_var, tenant_var
    from thirdlane.logging import ContextFilter

    token_r, token_t = request_id_var.set("req-7"), tenant_var.set("acme")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "created with secret=abc123", None, None)
        ContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token_r)
        tenant_var.reset(token_t)
    assert line["request_id"] == "req-7" and line["tenant"] == "acme"
    assert "abc123" not in line["message"]


@pytest.mark.django_db(transaction=True)
def test_migrate_tenants_in_parallel_processes(capsys):
    from apps.tenants import schemas
    from apps.tenants.models import Reseller, Tenant

    reseller = Reseller.objects.create(name="Par", slug="par")
    names = ["t_par_one", "t_par_two", "t_par_three"]
    try:
        for name in names:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{name}"')
            Tenant.objects.create(slug=name[2:].replace("_", "-"), name=name, reseller=reseller, schema_name=name)
        assert behind_schemas(names) == names
        call_command("migrate_tenants", parallel=2, no_progress=True)
        assert "3 migrated, 0 current" in capsys.readouterr().out
        assert behind_schemas(names) == []
    finally:
        for name in names:
            schemas.drop_schema(name)
