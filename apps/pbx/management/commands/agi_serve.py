"""The FastAGI server for dialplan look-ups."""
import os
import signal

from django.core.management.base import BaseCommand, CommandError

from apps.pbx.agi import FastAgiServer, registry


class Command(BaseCommand):
    help = ("Serve FastAGI (agi://host:4573/<script>) for the dialplan: scripts are registered by the apps' "
            "agi_handlers modules (e.g. crm-lookup). Binds AGI_HOST:AGI_PORT (default 127.0.0.1:4573); FastAGI has "
            "no authentication, so bind it to a private interface only.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AGI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AGI_PORT", "4573")))

    def handle(self, *args, host, port, **options):
        if not registry.paths():
            raise CommandError("No AGI scripts are registered.")
        try:
            server = FastAgiServer(host, port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
        self.stdout.write(f"FastAGI on {server.address[0]}:{server.address[1]}; scripts: {', '.join(registry.paths())}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.shutdown()
