"""The Celery application shared by the web process and every worker."""
import os

from celery import Celery

# No default: a worker that fell back to a laptop's settings would run with DEBUG on, SQLite
# and the filesystem broker, and quietly never see the site's jobs.
if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    raise SystemExit(
        "Set DJANGO_SETTINGS_MODULE before starting Celery: petmemories.settings.production in a "
        "deployment, petmemories.settings.local on a developer's machine (make run does)."
    )

app = Celery("petmemories")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
