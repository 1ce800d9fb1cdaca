"""Entry point for Dramatiq workers: `dramatiq generation.workers.dramatiq_worker --queues cpu`."""
import atexit
import os

import django

# No default, as for Celery (petmemories/celery.py): a worker must not fall back to DEBUG settings.
if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    raise SystemExit("Set DJANGO_SETTINGS_MODULE before starting a Dramatiq worker (petmemories.settings.production in a deployment).")
django.setup()

from generation.workers import dramatiq_actors, reports  # noqa: E402  (importing registers the actors)

# Dramatiq does not tell a worker module its queues; a worker reports on every queue it has an
# actor for, and the web only offers an engine whose report says ready.
reports.start_reporting({actor.queue_name for actor in (dramatiq_actors.run_cpu_job, dramatiq_actors.run_gpu_job)})
atexit.register(reports.stopped)  # a clean stop; a killed process leaves its heartbeat to go quiet
