"""``manage.py provisioning_templates [--check]``: which template serves each file of each model
(the operator's from PROVISIONING_TEMPLATE_DIRS, or the shipped one), and with ``--check`` each
one rendered for a sample phone with every line in use and checked against its vendor's format
(apps.provisioning.formats). Exits 1 when a template does not render or breaks the format: run
it after adding or changing templates, before phones fetch them."""
from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import TemplateDoesNotExist, TemplateSyntaxError

from apps.provisioning import catalog, formats, render

SAMPLE_MAC = "0015650a0b0c"


def sample_context(vendor: str, model: str) -> dict:
    lines = [SimpleNamespace(position=n, label="" if n % 2 else f"Line {n} & <co>",
                             extension=SimpleNamespace(
                                 number=f"{1000 + n}", name=f"User {n} \"Q\"", caller_id_name="", enabled=True,
                                 sip_secret=f"Secret-{n:02d}-x&y<z>", voicemail_enabled=n % 2 == 1,
                                 phone_username_for=lambda slug, n=n: f"{1000 + n}-{slug}"))
             for n in range(1, catalog.max_lines(vendor, model) + 1)]
    phone = SimpleNamespace(mac=SAMPLE_MAC, vendor=vendor, model=model, name="Sample -- desk", admin_password="Adm1nPass")
    tenant = SimpleNamespace(slug="sample", name="Sample", timezone="America/New_York")
    server = SimpleNamespace(name="pbx-sample", sip_address="sip.sample.example", sip_port=5060)
    return render.context(phone=phone, lines=lines, tenant=tenant, server=server, password="Prov-Pass-0123456789",
                          base_url="https://prov.sample.example/provisioning/")


class Command(BaseCommand):
    help = "List the provisioning templates each phone model uses; --check renders and validates them."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Render each one for a sample phone and check it.")

    def handle(self, *args, check: bool, **options):
        failures = 0
        for vendor in catalog.VENDORS.values():
            for model in catalog.models_of(vendor.key):
                for rule in {r.template: r for r in vendor.files}.values():  # one line per template
                    try:
                        template = render.template_for(vendor.key, model, rule.template)
                        origin = template.origin.name.replace(str(settings.BASE_DIR) + "/", "")
                    except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
                        failures += 1
                        self.stderr.write(f"{vendor.key} {model} {rule.template}: {type(exc).__name__}: {exc}")
                        continue
                    status = ""
                    if check:
                        try:
                            text = render.render(rule, sample_context(vendor.key, model))
                            formats.check(vendor.key, rule.template, text, SAMPLE_MAC)
                            status = "  ok"
                        except Exception as exc:  # noqa: BLE001 (any failure of an operator's template is reported)
                            failures += 1
                            status = f"  FAILED: {exc}"
                    self.stdout.write(f"{vendor.key:<12} {model:<10} {rule.template:<11} {origin}{status}")
        if failures:
            raise CommandError(f"{failures} template(s) failed")
