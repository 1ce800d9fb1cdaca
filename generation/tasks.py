from celery import shared_task

from . import services


@shared_task(name="generation.run_job", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(job_id: int) -> None:
    services.job_execute(job_id=job_id)
