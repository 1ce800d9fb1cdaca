"""How a job's id reaches the workers: Celery (the default) or Dramatiq, chosen by the
GENERATION_TASK_BACKEND setting. A message is a ticket for one run on a queue; both backends
run the same job code (``services.job_run_next``, from ``generation.workers``).

Messages are sent by name, so nothing here imports the worker side."""
from functools import cache

from django.conf import settings

CELERY_TASK = "generation.run_job"


def dramatiq_actor_name(queue: str) -> str:
    return f"generation.run_{queue}_job"


@cache
def dramatiq_broker():
    """The Dramatiq broker of this process (Redis, DRAMATIQ_BROKER_URL), made once and set as
    Dramatiq's global broker, before any actor is declared."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware import CurrentMessage

    broker = RedisBroker(url=settings.DRAMATIQ_BROKER_URL)
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    return broker


def dispatch(*, job_id: int, queue: str, time_limit: int) -> None:
    """Send one ticket for ``queue``; raises when the broker cannot be reached."""
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        import dramatiq

        message = dramatiq.Message(
            queue_name=queue, actor_name=dramatiq_actor_name(queue), args=(job_id,), kwargs={},
            options={"time_limit": time_limit * 1000},
        )
        dramatiq_broker().enqueue(message)
        return

    from core.celery import app

    # A connection of its own, made from the current configuration: a web process that once
    # failed to reach the broker tries afresh next time.
    with app.connection_for_write() as connection:
        app.send_task(
            CELERY_TASK, args=[job_id], kwargs={"queue": queue}, queue=queue, retry=False, connection=connection,
            soft_time_limit=time_limit, time_limit=time_limit + 60,
        )


def waiting_messages(*, queue: str) -> int:
    """How many tickets wait on ``queue`` in the broker, not yet taken by a worker; raises when
    the broker cannot be reached."""
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        broker = dramatiq_broker()
        return broker.client.llen(f"{broker.namespace}:{queue}")  # Dramatiq's Redis broker: a list of message ids

    from core.celery import app

    with app.connection_for_read() as connection:
        # Declared as the workers declare it (an empty Redis queue does not exist until then).
        return app.amqp.queues[queue].bind(connection.default_channel).queue_declare().message_count


def time_limit_errors() -> tuple[type[BaseException], ...]:
    """What each backend raises inside a job that ran past its time limit."""
    from celery.exceptions import SoftTimeLimitExceeded

    errors: list[type[BaseException]] = [SoftTimeLimitExceeded]
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        from dramatiq.middleware import TimeLimitExceeded

        errors.append(TimeLimitExceeded)
    return tuple(errors)
