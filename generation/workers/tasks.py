from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown
from django.core.management import call_command

from core.celery import app
from generation import services
from generation.messaging import CELERY_TASK

from . import reports


@app.task(name=CELERY_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(self, job_id: int, queue: str = "cpu") -> None:
    """One message, one run: the worker takes the next job on its queue (Premium first; see
    services.job_claim). ``job_id`` names the job whose creation sent the message."""
    services.job_run_next(queue=queue, ticket=self.request.id)


@worker_process_init.connect
def report_engines(**kwargs) -> None:
    """Each pool process (or a solo worker's own) beats and says which engines of its worker's
    queues it can run."""
    queues = set(app.amqp.queues.consume_from or app.amqp.queues)
    reports.start_reporting(queues)


@worker_process_shutdown.connect
@worker_shutdown.connect
def report_stopped(**kwargs) -> None:
    """A pool process, or a solo worker, that stops cleanly removes its heartbeat."""
    reports.stopped()


@app.task(name="generation.sweep_storage", ignore_result=True)
def sweep_storage() -> None:
    """Periodic (CELERY_BEAT_SCHEDULE): remove the media files no row points to."""
    call_command("sweep_storage")
