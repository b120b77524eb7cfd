"""The FastAGI server for dialplan look-ups."""
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from apps.pbx.agi import FastAgiServer, registry


class Command(BaseCommand):
    help = ("Serve FastAGI (agi://host:4573/<script>) for the dialplan: scripts are registered by the apps' "
            "agi_handlers modules (e.g. crm-lookup). Binds AGI_HOST:AGI_PORT (default 127.0.0.1:4573); FastAGI has "
            "no authentication, so bind it to a private interface only. SIGTERM or SIGINT stops accepting at "
            "once and lets the sessions in progress finish (up to --grace seconds).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AGI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AGI_PORT", "4573")))
        parser.add_argument("--grace", type=float, default=float(os.environ.get("AGI_GRACE", "10")),
                            help="Seconds sessions in progress get to finish after SIGTERM/SIGINT.")

    def handle(self, *args, host, port, grace, **options):
        if not registry.paths():
            raise CommandError("No AGI scripts are registered.")
        try:
            server = FastAgiServer(host, port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        # The accept loop runs on a thread and the main thread only waits for a signal: a signal
        # handler must not stop the loop it interrupted (socketserver.shutdown() would deadlock,
        # and closing the socket under it made it spin at 100% CPU).
        stop = threading.Event()
        received: list[str] = []

        def on_signal(signum, frame):
            received.append(signal.Signals(signum).name)
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        server.start()
        self.stdout.write(f"FastAGI on {server.address[0]}:{server.address[1]}; scripts: {', '.join(registry.paths())}")
        self.stdout.flush()
        try:
            while not stop.wait(0.2):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            in_flight = server.active_sessions
            finished = server.shutdown(grace=grace)
        left = "" if finished else f"; {server.active_sessions} session(s) still running were abandoned"
        self.stdout.write(f"FastAGI stopped on {received[0] if received else 'exit'} "
                          f"({in_flight} session(s) in progress were let finish{left}).")
