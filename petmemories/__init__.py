# The Celery app is made in core/celery.py; `celery -A petmemories` finds it through
# petmemories/celery.py, so commands that send no task do not pay for loading Celery.
