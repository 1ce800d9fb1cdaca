"""`celery -A petmemories` finds the Celery app here. It is made in ``core.celery``, which any
app may import; the project, at the top, tells it where every app's tasks are."""
from core.celery import app

app.autodiscover_tasks()  # each app's tasks.py
app.autodiscover_tasks(["generation.workers"])  # generation keeps its worker side together

__all__ = ["app"]
