"""The Celery application shared by the web process and every worker. Workers start it as
`celery -A petmemories` (petmemories/celery.py), which also finds every app's tasks."""
import os
import warnings

from celery import Celery
from celery.exceptions import CPendingDeprecationWarning

# No default: a worker that fell back to a laptop's settings would run with DEBUG on, SQLite
# and the filesystem broker, and quietly never see the site's jobs.
if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    raise SystemExit(
        "Set DJANGO_SETTINGS_MODULE before starting Celery: petmemories.settings.production in a "
        "deployment, petmemories.settings.local on a developer's machine (make run does)."
    )

# Celery warns on every lost broker connection that cancelling running jobs becomes the default
# in Celery 6. We decided (CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS, in the
# settings, with why), so the warning only hides the real "connection lost" line in the log.
warnings.filterwarnings("ignore", message=r"\s*In Celery 5.1 we introduced an optional breaking change", category=CPendingDeprecationWarning)

app = Celery("petmemories")
app.config_from_object("django.conf:settings", namespace="CELERY")
