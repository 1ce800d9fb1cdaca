"""The Dramatiq side of ``generation.messaging``: one actor per worker queue.

Start a worker with ``dramatiq generation.workers.dramatiq_worker --processes 1 --threads 1 --queues cpu``.
Dramatiq's Redis broker hands the messages of a worker that stopped sending heartbeats to
another, with the same message id, which ``services.job_claim`` recognises as the same ticket.
"""
import dramatiq
from django.db import close_old_connections
from dramatiq.middleware import CurrentMessage

from generation import services
from generation.messaging import dramatiq_actor_name, dramatiq_broker

dramatiq_broker()  # actors are declared on it


def _run(queue: str) -> None:
    close_old_connections()  # a worker thread lives long; Django's connections may not
    try:
        services.job_run_next(queue=queue, ticket=CurrentMessage.get_current_message().message_id)
    finally:
        close_old_connections()


@dramatiq.actor(actor_name=dramatiq_actor_name("cpu"), queue_name="cpu", max_retries=0)
def run_cpu_job(job_id: int) -> None:
    _run("cpu")


@dramatiq.actor(actor_name=dramatiq_actor_name("gpu"), queue_name="gpu", max_retries=0)
def run_gpu_job(job_id: int) -> None:
    _run("gpu")
