from django.core.management.base import BaseCommand

from generation.services import jobs_requeue_stale


class Command(BaseCommand):
    help = "Send queued jobs to the broker again (run it from cron; jobs created while the broker was down wait for it)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=None, help="Seconds a job has waited (default: GENERATION_REQUEUE_AFTER_SECONDS).")

    def handle(self, *args, older_than, **options):
        sent = jobs_requeue_stale(older_than_seconds=older_than)
        self.stdout.write(f"Sent {sent} queued job(s) to the broker.")
