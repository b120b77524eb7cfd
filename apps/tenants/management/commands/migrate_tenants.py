"""Migrate the template, the spare pool and every tenant schema that is behind.

One SQL statement finds the schemas that lack a migration; current schemas cost nothing.
"""
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from apps.tenants import schemas
from apps.tenants.migrating import behind_schemas, drop_shadowing_tables, migrate_schemas
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = ("Migrate tenant schemas that are behind (found with one query), the template schema, and "
            "refresh the pool of spare schemas. Shows progress; --parallel N runs N processes.")

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=1, help="Processes to migrate with (default 1).")
        parser.add_argument("--tenant", action="append", default=[], help="Only these tenant slugs (repeatable).")
        parser.add_argument("--check", action="store_true", help="Exit 1 if any schema is behind; migrate nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, parallel, tenant, check, no_progress, **options):
        if parallel < 1:
            raise CommandError("--parallel must be at least 1")
        started = time.perf_counter()
        connection.set_schema_to_public()
        tenants = Tenant.objects.all()
        if tenant:
            tenants = tenants.filter(slug__in=tenant)
            missing = set(tenant) - set(tenants.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"Unknown tenant(s): {', '.join(sorted(missing))}")
        names = list(tenants.order_by("schema_name").values_list("schema_name", flat=True))
        behind = behind_schemas(names)
        template_behind = bool(behind_schemas([schemas.template_schema()])) or not schemas.schema_exists(
            schemas.template_schema())
        if check:
            if behind or template_behind:
                raise CommandError(f"{len(behind)} tenant schema(s) behind"
                                   f"{' and the template' if template_behind else ''}: {', '.join(behind[:20])}")
            self.stdout.write(f"All {len(names)} tenant schemas are current.")
            return
        if not tenant and schemas.ensure_template():
            dropped = schemas.empty_pool()  # spares cloned from the old template are behind now
            self.stdout.write(f"Template migrated; dropped {dropped} stale spare schema(s).")
        dropped = drop_shadowing_tables(names)
        if dropped:
            self.stdout.write(f"Dropped {len(dropped)} table(s) shadowing shared ones: {', '.join(dropped[:10])}")
        self.stdout.write(f"{len(names)} tenant schema(s), {len(behind)} behind.")
        if behind:
            bar = tqdm(total=len(behind), unit="schema", file=sys.stderr, disable=no_progress, desc="migrating")
            try:
                migrate_schemas(behind, parallel=parallel, progress=lambda _s: bar.update(1))
            except Exception as exc:
                raise CommandError(f"Migration failed: {exc}") from exc
            finally:
                bar.close()
        connection.set_schema_to_public()
        self.stdout.write(self.style.SUCCESS(
            f"Done in {time.perf_counter() - started:.2f}s: {len(behind)} migrated, {len(names) - len(behind)} current."))
