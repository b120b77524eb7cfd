"""Tenant schemas: the template, the pool of spare schemas, cloning and dropping.

Creating a tenant must stay fast at any tenant count. Running every migration takes seconds,
and even django-tenants' clone of the template schema slows down as the catalog grows (about
2.7 s at 500 tenants). So a few spare schemas, cloned from the template ahead of time by a beat
task, wait in a pool (``_pool_<hex>``); creating a tenant renames one (a catalog update of a few
milliseconds, transactional, so a rolled-back tenant creation gives the schema back). When the
pool is empty the creation clones the template in-line.

The template (``TENANT_TEMPLATE_SCHEMA``) is kept migrated and empty; clones copy its
``django_migrations`` rows, so a clone is already current.
"""
from __future__ import annotations

import logging
import re
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
    from apps.tenants.migrating import behind_schemas

    if name in behind_schemas([name]) or not _has_migrations_table(name):
        call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
        connection.set_schema_to_public()
        return True
    return False


def _has_migrations_table(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".django_migrations'])
        return cursor.fetchone()[0] is not None


def clone_template(new_name: str) -> None:
    """Copy the template schema (tables, indexes, migration records) into ``new_name``."""
    CloneSchema().clone_schema(template_schema(), _check(new_name), "DATA")


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
    clone_template(new_name)
    return "clone"


def drop_schema(name: str) -> None:
    if name in ("public", template_schema()):
        raise ValueError(f"refusing to drop {name!r}")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{_check(name)}" CASCADE')


def fill_pool(size: int | None = None) -> int:
    """Clone the template until the pool holds ``size`` spares; each clone commits on its own."""
    size = settings.TENANT_SCHEMA_POOL_SIZE if size is None else size
    created = 0
    if not schema_exists(template_schema()):
        return 0
    while len(pool_schemas()) < size:
        name = f"{POOL_PREFIX}{uuid.uuid4().hex[:16]}"
        with transaction.atomic():
            clone_template(name)
        created += 1
    return created


def empty_pool() -> int:
    """Drop every spare (they are disposable: after a migration they would be behind)."""
    spares = pool_schemas()
    for spare in spares:
        drop_schema(spare)
    return len(spares)
