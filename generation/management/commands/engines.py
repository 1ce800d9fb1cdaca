from django.core.management.base import BaseCommand

from generation.engines import all_engines


class Command(BaseCommand):
    help = "List the generation engines, where each runs, and whether it is ready."

    def handle(self, *args, **options):
        for engine in all_engines():
            readiness = engine.readiness()
            status = "ready" if readiness.ready else f"not ready: {readiness.reason}"
            self.stdout.write(f"{engine.name:<16} {engine.queue:<4} {status}  — {engine.description}")
