"""Bring a database to a working state: public schema, template, tenants, spare pool."""
from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.tenants import schemas


class Command(BaseCommand):
    help = "Migrate the public schema, the tenant template and every tenant schema; fill the spare schema pool."

    def add_arguments(self, parser):
        parser.add_argument("--parallel", type=int, default=1, help="Processes for tenant migrations.")
        parser.add_argument("--no-pool", action="store_true", help="Do not fill the pool of spare schemas.")

    def handle(self, *args, parallel, no_pool, verbosity, **options):
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(verbosity - 1, 0))
        call_command("migrate_tenants", parallel=parallel, no_progress=verbosity < 1, stdout=self.stdout)
        if not no_pool:
            created = schemas.fill_pool()
            self.stdout.write(f"Schema pool: {len(schemas.pool_schemas())} spare(s) ({created} new).")
