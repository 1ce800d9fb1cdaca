# The Celery app lives in petmemories/celery.py; `celery -A petmemories` finds it there, and
# generation/tasks.py imports it, so commands that send no task do not pay for loading Celery.
