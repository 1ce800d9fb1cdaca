from django.core.management import call_command
from django.core.management.base import BaseCommand

from shop.models import Frame


class Command(BaseCommand):
    help = "Load the demo frame catalog into an empty shop (never over frames staff have edited)."

    def handle(self, *args, **options):
        if Frame.objects.exists():
            self.stdout.write("The shop already has frames; the demo catalog was not loaded.")
            return
        call_command("loaddata", "demo_frames", verbosity=0)
        self.stdout.write(f"Loaded {Frame.objects.count()} demo frames.")
