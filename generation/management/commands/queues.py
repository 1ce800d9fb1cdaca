from django.core.management.base import BaseCommand

from generation.selectors import queue_report


class Command(BaseCommand):
    help = "Worker and queue health: jobs waiting and running per queue, and which workers answer a ping."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=2.0, help="Seconds to wait for workers to answer.")

    def handle(self, *args, timeout, **options):
        self.stdout.write(f"{'queue':<6} {'queued':>6} {'priority':>8} {'running':>7} {'oldest wait':>12}  engines")
        for row in queue_report():
            self.stdout.write(
                f"{row['queue']:<6} {row['queued']:>6} {row['priority_queued']:>8} {row['running']:>7} "
                f"{row['oldest_wait_s']:>10.1f} s  {', '.join(row['engines'])}"
            )
        from petmemories.celery import app

        try:
            replies = app.control.ping(timeout=timeout) or []
        except Exception as error:  # the broker is down: say so rather than crash
            self.stdout.write(self.style.ERROR(f"Could not ask the workers: {error}"))
            return
        if not replies:
            self.stdout.write(self.style.WARNING("No worker answered."))
        for reply in replies:
            for name, answer in reply.items():
                self.stdout.write(f"worker {name}: {answer.get('ok', answer)}")
