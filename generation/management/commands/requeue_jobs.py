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
        parser.add_argument(
            "--older-than", type=int, default=None, metavar="SECONDS",
            help="Leave alone the jobs created this recently and never sent (default: GENERATION_REQUEUE_AFTER_SECONDS).",
        )

    def handle(self, *args, every, older_than, **options):
        if every is None:
            self.sweep(older_than)
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            started = time.monotonic()
            try:
                self.sweep(older_than)
                workers_forget()
            except Exception as error:  # the database is away: say so, and try again next time
                self.stderr.write(f"The sweep failed: {error}")
            finally:
                close_old_connections()
            while not stopping and time.monotonic() - started < every:
                time.sleep(0.2)

    def sweep(self, older_than):
        sweep = jobs_sweep(grace_seconds=older_than)
        self.stdout.write(f"Sent {sweep.sent} queued job(s) to the broker; put {sweep.recovered} orphaned job(s) back in line.")
        if sweep.unreachable:
            self.stdout.write(self.style.WARNING(f"Could not reach the broker for: {', '.join(sweep.unreachable)}."))
        self.stdout.flush()
