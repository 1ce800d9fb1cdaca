"""How a job's id reaches the workers: Celery (the default) or Dramatiq, chosen by the
GENERATION_TASK_BACKEND setting. Both run the same job code, ``services.job_run_next``."""
from django.conf import settings


def dispatch(*, job_id: int, queue: str, time_limit: int) -> None:
    """Send one ticket for ``queue``; raises when the broker cannot be reached."""
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        from .dramatiq_actors import actor_for

        actor_for(queue).send_with_options(args=(job_id,), time_limit=time_limit * 1000)
        return

    from .tasks import run_job

    # A connection of its own, made from the current configuration: a web process that once
    # failed to reach the broker tries afresh next time.
    with run_job.app.connection_for_write() as connection:
        run_job.apply_async(
            args=[job_id], kwargs={"queue": queue}, queue=queue, retry=False, connection=connection,
            soft_time_limit=time_limit, time_limit=time_limit + 60,
        )


def waiting_messages(*, queue: str) -> int:
    """How many tickets wait on ``queue`` in the broker, not yet taken by a worker; raises when
    the broker cannot be reached."""
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        from .dramatiq_actors import broker

        return broker.client.llen(f"{broker.namespace}:{queue}")  # Dramatiq's Redis broker: a list of message ids

    from .tasks import run_job

    app = run_job.app
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
