import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from generation.services import jobs_sweep, workers_forget


class Command(BaseCommand):
    help = (
        "Sweep the jobs once, or every N seconds with --every (the `requeue` process): put back in line "
        "the running jobs whose worker died, and send a message for every queued job whose message was lost."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, nargs="?", const=settings.GENERATION_SWEEP_SECONDS, default=None, metavar="SECONDS",
            help=f"Sweep again and again, this many seconds apart (production: GENERATION_SWEEP_SECONDS, {settings.GENERATION_SWEEP_SECONDS}).",
        )

    def handle(self, *args, every, **options):
        if every is None:
            self.sweep()
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            started = time.monotonic()
            try:
                self.sweep()
                workers_forget()
            except Exception as error:  # the database is away: say so, and try again next time
                self.stderr.write(f"The sweep failed: {error}")
            finally:
                close_old_connections()
            while not stopping and time.monotonic() - started < every:
                time.sleep(0.2)

    def sweep(self):
        sweep = jobs_sweep()
        self.stdout.write(f"Sent {sweep.sent} queued job(s) to the broker; put {sweep.recovered} orphaned job(s) back in line.")
        if sweep.unreachable:
            self.stdout.write(self.style.WARNING(f"Could not reach the broker for: {', '.join(sweep.unreachable)}."))
        self.stdout.flush()
