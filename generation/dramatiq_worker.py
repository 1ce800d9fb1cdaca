"""Entry point for Dramatiq workers: `dramatiq generation.dramatiq_worker --queues cpu`."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petmemories.settings.local")
django.setup()

from generation import dramatiq_actors  # noqa: E402, F401  (registers the actors)
