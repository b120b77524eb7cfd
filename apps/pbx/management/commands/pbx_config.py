"""Render a server's configuration from the command line: check it, show it, or write it.

    manage.py pbx_config pbx-eu-1                 # summary: tenants, endpoints, checksum, validation
    manage.py pbx_config pbx-eu-1 --show extensions.conf
    manage.py pbx_config pbx-eu-1 --write /tmp/pbx-eu-1   # the real files (with secrets), atomically
    manage.py pbx_config pbx-eu-1 --apply         # queue a push, as POST /api/servers/<id>/apply does
"""
from django.core.management.base import BaseCommand, CommandError

from apps.pbx.models import Server
from apps.pbx.render import FILES, redacted, render_server
from apps.pbx.render.confcheck import validate


class Command(BaseCommand):
    help = "Render, validate, show or write a PBX server's configuration."

    def add_arguments(self, parser):
        parser.add_argument("server", help="Server name.")
        parser.add_argument("--show", choices=FILES, help="Print one file (secrets redacted).")
        parser.add_argument("--write", metavar="DIR", help="Write the files (with secrets) into DIR.")
        parser.add_argument("--apply", action="store_true", help="Queue a push to the server.")

    def handle(self, *args, server, show=None, write=None, apply=False, **options):
        target = Server.objects.filter(name=server).first()
        if target is None:
            raise CommandError(f"No server named {server!r}.")
        rendered = render_server(target)
        problems = validate(rendered.files)
        if show:
            self.stdout.write(redacted(rendered.files)[show], ending="")
            return
        endpoints = rendered.files["pjsip.conf"].count("(tl-phone)")
        self.stdout.write(f"{target.name}: {len(rendered.tenants)} tenants, {endpoints} phone endpoints, "
                          f"checksum {rendered.checksum[:16]}")
        for problem in problems[:20]:
            self.stderr.write(f"  problem: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s); nothing written.")
        if write:
            from apps.pbx.apply import PushFailed, write_files

            try:
                changed = write_files(write, rendered.files)
            except PushFailed as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"wrote {', '.join(changed) or 'nothing (unchanged)'} in {write}")
        if apply:
            from apps.accounts.principal import Principal
            from apps.pbx.services import config_push_request

            push = config_push_request(actor=Principal.system("manage.py pbx_config"), server=target)
            self.stdout.write(f"push #{push.pk} queued")
