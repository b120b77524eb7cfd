"""Listen to every active PBX server's AMI events (one connection per server)."""
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from apps.pbx.listening import ServerListener
from apps.pbx.models import Server


class Command(BaseCommand):
    help = ("Keep one AMI connection per active PBX server (keepalive pings, reconnects with backoff) and "
            "dispatch its events to the apps' handlers. Stops on SIGINT/SIGTERM.")

    def add_arguments(self, parser):
        parser.add_argument("--server", action="append", default=[], help="Only this server name (repeatable).")
        parser.add_argument("--keepalive", type=float, default=20.0, help="Seconds between keepalive pings.")
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this many seconds (testing).")

    def handle(self, *args, server, keepalive, seconds, **options):
        servers = Server.objects.filter(is_active=True).exclude(ami_username="")
        if server:
            servers = servers.filter(name__in=server)
            missing = set(server) - set(servers.values_list("name", flat=True))
            if missing:
                raise CommandError(f"Unknown or inactive server(s): {', '.join(sorted(missing))}")
        servers = list(servers)
        if not servers:
            raise CommandError("No active PBX server with AMI credentials; add one in the admin or /api/servers/.")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        listeners = [ServerListener(s, keepalive=keepalive) for s in servers]
        for listener in listeners:
            listener.start()
            self.stdout.write(f"listening to {listener.server.name} ({listener.server.ami_host}:{listener.server.ami_port})")
        stop.wait(seconds)
        for listener in listeners:
            listener.stop()
        for listener in listeners:
            listener.join(timeout=10)
        failed = [f"{lst.server.name}: {lst.error}" for lst in listeners if lst.error]
        total = sum(lst.events_seen for lst in listeners)
        self.stdout.write(f"stopped; {total} event(s) received")
        if failed:
            raise CommandError("listener(s) failed: " + "; ".join(failed))
