"""Demo data for a first run: a system admin, a reseller with two tenants, one API key per scope.

Prints the passwords and keys once, with ready-to-paste curl lines. Running it again changes
nothing (keys are never shown twice; rotate them in the admin or with the API).
"""
import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Scope, User
from apps.accounts.principal import Principal
from apps.accounts.services import api_key_create
from apps.tenants.models import Reseller
from apps.tenants.services import reseller_create, tenant_create

DEMO_TENANTS = [("acme", "Acme Corp"), ("globex", "Globex Inc")]


class Command(BaseCommand):
    help = "Create demo data (idempotent) and print its credentials once."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000"),
                            help="URL used in the printed curl lines.")

    def handle(self, *args, base_url, **options):
        if Reseller.objects.filter(slug="demo").exists():
            self.stdout.write("Demo data already present; its keys were printed when it was created. "
                              "Issue new ones at /admin/accounts/apikey/ or POST /api/api-keys/.")
            return
        actor = Principal.system("seed_demo")
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            reseller = reseller_create(actor=actor, name="Demo Reseller", slug="demo", contact_email="ops@demo.example")
            tenants = [tenant_create(actor=actor, slug=slug, name=name, reseller=reseller) for slug, name in DEMO_TENANTS]
            User.objects.create_superuser("admin", "admin@demo.example", password, role=User.Role.SYSTEM_ADMIN)
            User.objects.create_user("reseller", "reseller@demo.example", password, role=User.Role.RESELLER_ADMIN,
                                     reseller=reseller, is_staff=True)
            User.objects.create_user("acme-admin", "admin@acme.example", password, role=User.Role.TENANT_ADMIN,
                                     tenant=tenants[0], is_staff=True)
            keys = {
                "system": api_key_create(actor=actor, name="demo system key", scope=Scope.SYSTEM).key,
                "reseller": api_key_create(actor=actor, name="demo reseller key", scope=Scope.RESELLER,
                                           reseller=reseller).key,
                "tenant (acme)": api_key_create(actor=actor, name="demo acme key", scope=Scope.TENANT,
                                                tenant=tenants[0]).key,
                "read-only tenant (acme)": api_key_create(actor=actor, name="demo acme read-only key",
                                                          scope=Scope.TENANT, tenant=tenants[0], read_only=True).key,
            }
        w = self.stdout.write
        w(self.style.SUCCESS("\nDemo data created. These secrets are shown once; copy them now.\n"))
        w(f"  Admin:        {base_url}/admin/   users admin / reseller / acme-admin, password: {password}")
        w(f"  API docs:     {base_url}/api/docs/")
        for label, key in keys.items():
            w(f"  {label + ' key:':<28} {key}")
        w("\nTry:")
        w(f"  curl -s -H 'X-API-Key: {keys['reseller']}' {base_url}/api/tenants/")
        w(f"  curl -s -H 'X-API-Key: {keys['tenant (acme)']}' {base_url}/api/tenants/acme/")
        w(f"  curl -s -u reseller:{password} {base_url}/api/api-keys/")
        w(f"  curl -s -X POST -H 'X-API-Key: {keys['reseller']}' -H 'Content-Type: application/json' "
          f"-d '{{\"slug\": \"initech\", \"name\": \"Initech\"}}' {base_url}/api/tenants/")
        w("")
