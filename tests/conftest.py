"""Shared fixtures: the tenant template and spare pool, a small multi-reseller world, API clients.

Tests run on a real PostgreSQL and Redis. Tenants are made by the real ``tenant_create``: in a
normal (transactional) test it renames a spare schema inside the test's transaction, so the
rollback at the end gives the spare back and each test costs milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest


def pytest_configure(config):
    from django.db.backends.postgresql.operations import DatabaseOperations

    # Tenant schemas (the template, spares) hold foreign keys to public tables such as
    # pbx_location, so the flush after a transactional test must TRUNCATE ... CASCADE.
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=True)

    DatabaseOperations.sql_flush = sql_flush


POOL_FOR_TESTS = 8


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the test database exists: migrate the template schema and fill the spare pool."""
    from django.db import connection

    from apps.tenants import schemas

    with django_db_blocker.unblock():
        if schemas.ensure_template():
            schemas.empty_pool()
        # A reused database may hold what an interrupted run committed (a killed run never
        # reaches its transactional tests' flush): start from empty public tables and no
        # tenant schemas.
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            leftovers = [r[0] for r in cursor.fetchall()]
        for name in leftovers:
            schemas.drop_schema(name)
        schemas.fill_pool(POOL_FOR_TESTS)


@dataclass
class World:
    reseller: object
    other_reseller: object
    acme: object
    globex: object
    initech: object  # belongs to other_reseller
    keys: dict  # label -> full key string
    users: dict


@pytest.fixture
def system_actor():
    from apps.accounts.principal import Principal

    return Principal.system("tests")


def build_world(actor) -> World:
    from apps.accounts.models import Scope, User
    from apps.accounts.services import api_key_create
    from apps.tenants.services import reseller_create, tenant_create

    reseller = reseller_create(actor=actor, name="Reseller One", slug="one")
    other = reseller_create(actor=actor, name="Reseller Two", slug="two")
    acme = tenant_create(actor=actor, slug="acme", name="Acme", reseller=reseller)
    globex = tenant_create(actor=actor, slug="globex", name="Globex", reseller=reseller)
    initech = tenant_create(actor=actor, slug="initech", name="Initech", reseller=other)

    def key(**kw):
        return api_key_create(actor=actor, name=kw.pop("name", "k"), **kw).key

    keys = {
        "system": key(scope=Scope.SYSTEM),
        "system_ro": key(scope=Scope.SYSTEM, read_only=True),
        "reseller": key(scope=Scope.RESELLER, reseller=reseller),
        "reseller_ro": key(scope=Scope.RESELLER, reseller=reseller, read_only=True),
        "other_reseller": key(scope=Scope.RESELLER, reseller=other),
        "acme": key(scope=Scope.TENANT, tenant=acme),
        "acme_ro": key(scope=Scope.TENANT, tenant=acme, read_only=True),
        "globex": key(scope=Scope.TENANT, tenant=globex),
        "initech": key(scope=Scope.TENANT, tenant=initech),
    }
    users = {
        "admin": User.objects.create_superuser("admin", "a@example.com", "pw-admin-1", role=User.Role.SYSTEM_ADMIN),
        "reseller": User.objects.create_user("reseller", "r@example.com", "pw-reseller-1",
                                             role=User.Role.RESELLER_ADMIN, reseller=reseller, is_staff=True),
        "other_reseller": User.objects.create_user("other", "o@example.com", "pw-other-1",
                                                   role=User.Role.RESELLER_ADMIN, reseller=other, is_staff=True),
        "acme_admin": User.objects.create_user("acme-admin", "aa@example.com", "pw-acme-1",
                                               role=User.Role.TENANT_ADMIN, tenant=acme, is_staff=True),
    }
    return World(reseller, other, acme, globex, initech, keys, users)


@pytest.fixture
def world(db, system_actor) -> World:
    return build_world(system_actor)


class ApiClient:
    """A DRF test client that sends one credential on every request."""

    def __init__(self, key: str | None = None, basic: tuple[str, str] | None = None):
        from rest_framework.test import APIClient

        self.client = APIClient()
        if key:
            self.client.credentials(HTTP_X_API_KEY=key)
        elif basic:
            import base64

            token = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            self.client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

    def __getattr__(self, name):
        method = getattr(self.client, name)
        if name in ("post", "put", "patch") :
            def call(path, data=None, **kw):
                kw.setdefault("format", "json")
                return method(path, data, **kw)
            return call
        return method


@pytest.fixture
def api(world):
    """``api("acme")`` is a client authenticated with that key of the world."""
    def make(label: str | None = None, *, basic: tuple[str, str] | None = None) -> ApiClient:
        return ApiClient(world.keys[label] if label else None, basic=basic)

    return make


@pytest.fixture
def committed_world(transactional_db, system_actor):
    """The same world, committed (for tests with real workers or several connections).

    Its tenant schemas are dropped afterwards and the spare pool refilled, so later tests
    still create tenants by renaming a spare.
    """
    from apps.tenants import schemas
    from apps.tenants.models import Tenant
    from apps.tenants.services import tenant_delete

    world = build_world(system_actor)
    yield world
    for tenant in Tenant.objects.all():
        tenant_delete(actor=system_actor, tenant=tenant)
    schemas.fill_pool(POOL_FOR_TESTS)


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker process on the test database and the test Redis database."""
    from django.db import connection

    from tests.helpers.celery_worker import Worker

    worker = Worker(connection.settings_dict["NAME"]).start()
    yield worker
    worker.stop()
