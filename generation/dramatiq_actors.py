"""The Dramatiq side of ``generation.dispatch``: one actor per worker queue.

Start a worker with ``dramatiq generation.dramatiq_worker --processes 1 --threads 1 --queues cpu``.
Dramatiq's Redis broker hands the messages of a worker that stopped sending heartbeats to
another, with the same message id, which ``services.job_claim`` recognises as the same ticket.
"""
import dramatiq
from django.conf import settings
from django.db import close_old_connections
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from . import services

broker = RedisBroker(url=settings.DRAMATIQ_BROKER_URL)
broker.add_middleware(CurrentMessage())
dramatiq.set_broker(broker)


def _run(queue: str) -> None:
    close_old_connections()  # a worker thread lives long; Django's connections may not
    try:
        services.job_run_next(queue=queue, ticket=CurrentMessage.get_current_message().message_id)
    finally:
        close_old_connections()


@dramatiq.actor(actor_name="generation.run_cpu_job", queue_name="cpu", max_retries=0)
def run_cpu_job(job_id: int) -> None:
    _run("cpu")


@dramatiq.actor(actor_name="generation.run_gpu_job", queue_name="gpu", max_retries=0)
def run_gpu_job(job_id: int) -> None:
    _run("gpu")


def actor_for(queue: str) -> dramatiq.Actor:
    return {"cpu": run_cpu_job, "gpu": run_gpu_job}[queue]
