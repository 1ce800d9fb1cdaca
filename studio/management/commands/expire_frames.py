from django.core.management.base import BaseCommand

from studio.devices.services import devices_expire_unpaired


class Command(BaseCommand):
    help = "Delete frames registered more than FRAMES_UNPAIRED_EXPIRE_HOURS ago and never paired (the beat process does it hourly)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {devices_expire_unpaired()} unpaired frame(s).")
