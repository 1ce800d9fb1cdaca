"""Worker processes tell the web which engines they can run (see services.engine_availability).

Each worker process reports when it starts and then every third of the report lifetime, from a
daemon thread, so an idle GPU worker stays offered and a stopped one stops being offered.
Reports are made in the process that runs the jobs, never in a prefork parent: asking about
CUDA there would break CUDA in the children it forks.
"""
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from . import services

logger = logging.getLogger(__name__)


def report_once(queues: set[str]) -> None:
    try:
        services.engines_report(worker=services.worker_name(), queues=queues)
    except Exception:  # a missed report only delays an engine being offered
        logger.exception("Could not report this worker's engines")
    finally:
        close_old_connections()


def start_reporting(queues: set[str]) -> None:
    interval = max(1, settings.GENERATION_WORKER_REPORT_SECONDS // 3)

    def loop():
        while True:
            report_once(queues)
            time.sleep(interval)

    threading.Thread(target=loop, name="engine-reports", daemon=True).start()
