"""Tenant schemas: the template, the pool of spare schemas, building and dropping.

Creating a tenant must stay fast at any tenant count. Running every migration takes about a
second, and django-tenants' clone of the template (a PL/pgSQL walk over the catalog) grows with
the catalog: measured here 0.4 s with no tenants, 1.2 s at 100 and 16.5 s at 500
(bench/tenancy.py). So:

* a few spare schemas wait in a pool (``_pool_<hex>``), built ahead of time by a beat task;
  creating a tenant renames one: a catalog update of a few milliseconds, transactional, so a
  rolled-back tenant creation gives the spare back;
* a spare (or a tenant schema, when the pool is empty) is built by replaying the template's DDL,
  taken once with ``pg_dump --schema-only`` and cached until the template's migrations change,
  plus its ``django_migrations`` rows: about 0.1 s at any tenant count. Where ``pg_dump`` is
  missing it falls back to CREATE SCHEMA + migrations.

The template (``TENANT_TEMPLATE_SCHEMA``) is kept migrated and empty.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import uuid

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema

logger = logging.getLogger(__name__)

POOL_PREFIX = "_pool_"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


def schema_name_for(slug: str) -> str:
    """Schema names are fixed at creation: ``t_<slug>`` with hyphens as underscores."""
    return "t_" + slug.replace("-", "_")


def _check(name: str) -> str:
    if not _SCHEMA_RE.match(name):
        raise ValueError(f"invalid schema name {name!r}")
    return name


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def pool_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname", [POOL_PREFIX.replace("_", r"\_") + "%"]
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_template(verbosity: int = 0) -> bool:
    """Create and migrate the template schema. Returns True when migrations changed it."""
    name = _check(template_schema())
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    from apps.tenants.migrating import behind_schemas, drop_shadowing_tables

    changed = bool(drop_shadowing_tables([name]))
    if name in behind_schemas([name]) or not _has_migrations_table(name):
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
        connection.set_schema_to_public()
        changed = True
    return changed


def _has_migrations_table(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".django_migrations'])
        return cursor.fetchone()[0] is not None


def clone_template(new_name: str) -> None:
    """django-tenants' clone of the template (kept for comparison in bench/tenancy.py)."""
    CloneSchema().clone_schema(template_schema(), _check(new_name), "DATA")


_ddl_cache: dict[str, str] = {}
_PLACEHOLDER = "__thirdlane_schema__"


def _template_state() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*), max(id) FROM "{_check(template_schema())}".django_migrations')
        return "%s:%s" % cursor.fetchone()


def template_ddl() -> str | None:
    """The template's DDL with its name replaced by a placeholder; None when pg_dump is unusable."""
    state = _template_state()
    if state in _ddl_cache:
        return _ddl_cache[state]
    pg_dump = shutil.which("pg_dump")
    if not pg_dump:
        return None
    db = connection.settings_dict
    env = dict(os.environ, PGPASSWORD=db.get("PASSWORD") or "")
    try:
        dump = subprocess.run(
            [pg_dump, "--schema-only", "--no-owner", "--no-privileges", "--no-comments", "-h", db["HOST"] or "localhost",
             "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-n", template_schema(), db["NAME"]],
            check=True, capture_output=True, text=True, env=env, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        logger.warning("pg_dump failed; tenant schemas will be built by migrations", exc_info=True)
        return None
    name = template_schema()
    statements = [line for line in dump.splitlines()
                  if not line.startswith(("SET ", "SELECT pg_catalog.set_config", "--", "\\"))]
    ddl = "\n".join(statements)
    ddl = re.sub(rf'(?<![\w"]){re.escape(name)}\.|"{re.escape(name)}"\.', f'"{_PLACEHOLDER}".', ddl)
    ddl = ddl.replace(f"CREATE SCHEMA {name};", f'CREATE SCHEMA "{_PLACEHOLDER}";')
    if f'CREATE SCHEMA "{_PLACEHOLDER}";' not in ddl or name in ddl:
        logger.warning("unexpected pg_dump output; tenant schemas will be built by migrations")
        return None
    _ddl_cache.clear()
    _ddl_cache[state] = ddl
    return ddl


def build_schema(new_name: str) -> str:
    """Create ``new_name`` as an empty, current tenant schema. Returns the method used."""
    _check(new_name)
    ddl = template_ddl()
    with connection.cursor() as cursor:
        if ddl is not None:
            cursor.execute(ddl.replace(_PLACEHOLDER, new_name))
            cursor.execute(
                f'INSERT INTO "{new_name}".django_migrations (app, name, applied) '
                f'SELECT app, name, applied FROM "{template_schema()}".django_migrations ORDER BY id')
            return "ddl"
        cursor.execute(f'CREATE SCHEMA "{new_name}"')
    call_command("migrate_schemas", tenant=True, schema_name=new_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    return "migrate"


def claim_pool_schema(new_name: str) -> bool:
    """Rename a spare schema to ``new_name`` inside the current transaction.

    An advisory transaction lock per spare keeps two concurrent creations from taking the same
    one; after taking the lock we check the spare still exists (another transaction may have
    renamed it and committed just before).
    """
    _check(new_name)
    with connection.cursor() as cursor:
        for spare in pool_schemas():
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [spare])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [spare])
            if cursor.fetchone() is None:
                continue
            cursor.execute(f'ALTER SCHEMA "{_check(spare)}" RENAME TO "{new_name}"')
            return True
    return False


def provision_schema(new_name: str) -> str:
    """Give ``new_name`` a current, empty tenant schema. Returns how: ``pool`` or ``clone``."""
    connection.set_schema_to_public()
    if claim_pool_schema(new_name):
        return "pool"
    return build_schema(new_name)


def drop_schema(name: str) -> None:
    if name in ("public", template_schema()):
        raise ValueError(f"refusing to drop {name!r}")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{_check(name)}" CASCADE')


def fill_pool(size: int | None = None) -> int:
    """Build spares until the pool holds ``size``; each one commits on its own."""
    size = settings.TENANT_SCHEMA_POOL_SIZE if size is None else size
    created = 0
    if not schema_exists(template_schema()):
        return 0
    while len(pool_schemas()) < size:
        name = f"{POOL_PREFIX}{uuid.uuid4().hex[:16]}"
        with transaction.atomic():
            build_schema(name)
        created += 1
    return created


def empty_pool() -> int:
    """Drop every spare (they are disposable: after a migration they would be behind)."""
    spares = pool_schemas()
    for spare in spares:
        drop_schema(spare)
    return len(spares)
