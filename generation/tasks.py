from petmemories.celery import app

from . import services


@app.task(name="generation.run_job", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_job(self, job_id: int, queue: str = "cpu") -> None:
    """One message, one run: the worker takes the next job on its queue (Premium first; see
    services.job_claim). ``job_id`` names the job whose creation sent the message."""
    services.job_run_next(queue=queue, ticket=self.request.id)
