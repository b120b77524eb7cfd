"""``manage.py rebuild_queue_calls [--tenant SLUG ...] [--no-progress]``: summarise every ended
queue call again from its call record (``apps.reports.queue_calls.rebuild``), one transaction per
tenant. Agent statistics read ended calls from these summaries; the call store writes them as
calls end, so this is only needed after call records were repaired or loaded by hand. Calls that
retention already purged keep their summaries. Exits 1 when a tenant is unknown or fails."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django_tenants.utils import schema_context
from tqdm import tqdm

from apps.reports.queue_calls import rebuild
from apps.tenants.models import Tenant


class Command(BaseCommand):
    help = "Rewrite the queue-call summaries agent statistics read, from the call records (all tenants or --tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", default=[], metavar="SLUG",
                            help="Only this tenant (repeatable).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args, tenant: list[str], no_progress: bool, **options):
        tenants = Tenant.objects.exclude(schema_name="public").order_by("slug")
        if tenant:
            tenants = tenants.filter(slug__in=tenant)
            unknown = sorted(set(tenant) - {t.slug for t in tenants})
            if unknown:
                raise CommandError(f"unknown tenant: {', '.join(unknown)}")
        failed, total = [], 0
        with tqdm(list(tenants), unit="tenant", file=sys.stderr, disable=no_progress, desc="summarising") as bar:
            for t in bar:
                try:
                    with schema_context(t.schema_name), transaction.atomic():
                        total += rebuild(t.schema_name)
                except DatabaseError as exc:
                    failed.append(t.slug)
                    self.stderr.write(f"{t.slug}: {exc}".strip())
        self.stdout.write(f"{total} queue call(s) summarised in {len(tenants) - len(failed)} tenant(s).")
        if failed:
            raise CommandError(f"failed for {len(failed)} tenant(s): {', '.join(failed)}")
