from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from core.storage import storage_sweep


class Command(BaseCommand):
    help = "Remove files from the media storage that no row points to, once older than the grace period (the beat process runs it daily)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")
        parser.add_argument("--grace-hours", type=float, default=None, help="Keep younger files (default: STORAGE_SWEEP_GRACE_HOURS).")

    def handle(self, *args, dry_run, grace_hours, **options):
        hours = settings.STORAGE_SWEEP_GRACE_HOURS if grace_hours is None else grace_hours
        report = storage_sweep(grace=timedelta(hours=hours), dry_run=dry_run)
        for name in report.removed:
            self.stdout.write(f"{'would remove' if dry_run else 'removed'} {name}")
        self.stdout.write(
            f"{len(report.removed)} orphan(s) {'found' if dry_run else 'removed'}; {len(report.too_recent)} younger than "
            f"{hours:g} h kept; {report.referenced} file(s) in use."
        )
