from django.core.management.base import BaseCommand

from studio.services import share_views_flush


class Command(BaseCommand):
    help = (
        "Write the public pages' visits counted in Redis to the database (the beat process does it every "
        "SHARE_VIEWS_FLUSH_SECONDS). With the per-process cache each web process writes its own."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Wrote {share_views_flush()} visit(s).")
