"""Worker processes tell the web they are alive (heartbeats) and which engines they can run.

Each worker process beats every GENERATION_HEARTBEAT_SECONDS (see WorkerHeartbeat; the sweep
puts back in line the running job of a worker that fell silent) and reports its engines every
third of GENERATION_WORKER_REPORT_SECONDS (see services.engine_availability), from one daemon
thread, so an idle GPU worker stays offered and a stopped one stops being offered.
Both are written by the process that runs the jobs, never by a prefork parent: asking about
CUDA there would break CUDA in the children it forks.
"""
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from generation import services

logger = logging.getLogger(__name__)


def report_once(queues: set[str]) -> None:
    try:
        services.engines_report(worker=services.worker_name(), queues=queues)
    except Exception:  # a missed report only delays an engine being offered
        logger.exception("Could not report this worker's engines")
    finally:
        close_old_connections()


def beat_once(queues: set[str]) -> None:
    try:
        services.worker_heartbeat(queues=queues)
    except Exception:  # one missed beat is no death: it takes GENERATION_WORKER_DEAD_AFTER_SECONDS
        logger.exception("Could not write this worker's heartbeat")
    finally:
        close_old_connections()


def stopped() -> None:
    """A clean stop: this process is not a dead worker with a job to recover."""
    try:
        services.worker_stopped()
    except Exception:
        logger.exception("Could not remove this worker's heartbeat")
    finally:
        close_old_connections()


def start_reporting(queues: set[str]) -> None:
    """Start the thread; nothing here may wait on the database: a prefork pool process that is
    not up within seconds of its start is killed and started again."""
    beat_every = max(1, settings.GENERATION_HEARTBEAT_SECONDS)
    report_every = max(1, settings.GENERATION_WORKER_REPORT_SECONDS // 3)

    def loop():
        next_report = 0.0
        while True:
            beat_once(queues)
            if time.monotonic() >= next_report:
                report_once(queues)
                next_report = time.monotonic() + report_every
            time.sleep(beat_every)

    threading.Thread(target=loop, name="worker-heartbeat", daemon=True).start()
