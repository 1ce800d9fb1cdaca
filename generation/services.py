"""Every change to a job goes through here.

A job moves queued → running → succeeded | failed | canceled, and back from running to queued
only when the worker running it died; nowhere else. Each transition locks the row, checks the
move is allowed and stamps the time, so a task that is delivered twice, or a cancel that races
a worker, cannot put a job in an impossible state.

A message on a worker queue is a ticket for one run, not for one job (see job_claim). The
sweep (jobs_sweep, run by ``manage.py requeue_jobs``) keeps that true after failures: it puts
back in line the running jobs whose worker stopped beating, and tops each queue up to one
ticket per queued job.
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from PIL import Image

from core.storage import files_delete_on_commit

from . import media
from .engines import VIDEO, Engine, EngineError, EngineNotReady, EngineSettings, InvalidSettings, Readiness, all_engines, get_engine
from .engines.pastime_images import PastimeSettings
from .limits import JobLimits
from .messaging import dispatch, time_limit_errors, waiting_messages
from .models import EngineReport, Job, JobInput, JobOutput, WorkerHeartbeat
from .rendering import RenderedOutput, render_outputs
from .selectors import job_files, jobs_orphaned, pastime_params, worker_alive
from .signals import job_ending, job_finished

logger = logging.getLogger(__name__)

State = Job.State
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    State.QUEUED: {State.RUNNING, State.FAILED, State.CANCELED},
    # running → queued only when the worker running it died (see job_claim).
    State.RUNNING: {State.SUCCEEDED, State.FAILED, State.CANCELED, State.QUEUED},
    State.SUCCEEDED: set(),
    State.FAILED: set(),
    State.CANCELED: set(),
}


# A job's reason is stored in English; the creation page shows it in the visitor's language.
TIMED_OUT = gettext_noop("This video took too long to make and was stopped. Please try a shorter or smaller one.")
GENERIC_FAILURE = gettext_noop("Something went wrong while making your video. Our team has been told; please try again.")
WORKER_LOST = gettext_noop("The computer making this video stopped several times while making it. Our team has been told; please try again.")
# Progress is written at most this often, so a fast render loop does not hammer the database.
PROGRESS_MIN_INTERVAL = 0.5


class InvalidTransition(Exception):
    pass


class StaleRun(InvalidTransition):
    """A worker tried to finish a run the job was taken away from: its worker was presumed dead
    and the job went back in line."""


class TooManyJobs(EngineError):
    """The owner has as many jobs in the making, or made today, as one account may. An
    EngineError, so every path that shows why a video cannot be made shows this too."""


def worker_name() -> str:
    """This process, as jobs and engine reports name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def engine_availability(engine: Engine) -> Readiness:
    """Whether jobs for ``engine`` can be taken now: this process can run it, or a worker said
    so within GENERATION_WORKER_REPORT_SECONDS. When not, the most useful reason: a worker's
    own, or else this process's."""
    local = engine.readiness()
    if local.ready:
        return local
    since = timezone.now() - timezone.timedelta(seconds=settings.GENERATION_WORKER_REPORT_SECONDS)
    fresh = EngineReport.objects.filter(engine=engine.name, reported_at__gte=since)
    if fresh.filter(ready=True).exists():
        return Readiness(True)
    latest = fresh.order_by("-reported_at").first()
    return Readiness(False, f"{latest.reason} (worker {latest.worker})") if latest else local


def engines_report(*, worker: str, queues: set[str]) -> None:
    """Record, for each engine on ``queues``, whether this worker process can run it."""
    now = timezone.now()
    for engine in all_engines():
        if engine.queue in queues:
            readiness = engine.readiness()
            EngineReport.objects.update_or_create(
                worker=worker, engine=engine.name,
                defaults={"ready": readiness.ready, "reason": readiness.reason[:300], "reported_at": now},
            )


def job_settings(*, engine: str, params: dict, limits: JobLimits = JobLimits(), photos: int = 1) -> EngineSettings:
    """The validated settings a job would run with, or the reason it cannot be made:
    InvalidSettings (a knob out of range, beyond the plan, the wrong number of ``photos`` for
    the engine, or a pastime not offered), UnknownEngine or EngineNotReady.

    A pastime-images job names its pastime (``params["pastime"]``); its prompts and pose
    reference are copied from the catalogue here, so the engine reads no database and a job
    makes what the pastime said when it was made, whatever staff change afterwards."""
    chosen = get_engine(engine)
    chosen.photos_check(photos)
    if chosen.queue == "gpu" and not limits.gpu_engines:
        raise InvalidSettings(gettext("%(engine)s comes with Premium.") % {"engine": chosen.label}, field="engine")
    readiness = engine_availability(chosen)
    if not readiness.ready:
        raise EngineNotReady(gettext("%(engine)s is not available right now: %(reason)s") % {"engine": chosen.label, "reason": readiness.reason})
    if issubclass(chosen.settings_class, PastimeSettings):
        params = {**params, **pastime_params(slug=str(params.get("pastime") or ""))}
    render_settings = chosen.settings(params)
    # The plan's height is a video's (Plan.max_height): a still is made as tall as it is printed.
    if VIDEO in chosen.makes and render_settings.height > limits.max_height:
        raise InvalidSettings(
            gettext("Your plan makes videos up to %(height)dp; taller ones come with Premium.") % {"height": limits.max_height}, field="height"
        )
    return render_settings


def job_quota_check(*, owner) -> None:
    """Raise TooManyJobs when ``owner`` may not start another job now: at most
    GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT queued or running, and GENERATION_MAX_PER_DAY_PER_ACCOUNT
    made since midnight (TIME_ZONE), whatever the plan and even while videos are free.

    Locks the owner's row until the surrounding transaction ends, so two submissions at once
    take turns: the second counts the first's job."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    jobs = Job.objects.filter(owner=owner)
    in_flight = settings.GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT
    if jobs.filter(state__in=[State.QUEUED, State.RUNNING]).count() >= in_flight:
        raise TooManyJobs(ngettext(
            "You already have %(count)d video in the making. Wait for it to finish, then try again.",
            "You already have %(count)d videos in the making. Wait for one to finish, then try again.",
            in_flight,
        ) % {"count": in_flight})
    per_day = settings.GENERATION_MAX_PER_DAY_PER_ACCOUNT
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if jobs.filter(created_at__gte=midnight).count() >= per_day:
        raise TooManyJobs(ngettext(
            "You have made %(count)d video today, as many as one account may. You can make more tomorrow.",
            "You have made %(count)d videos today, as many as one account may. You can make more tomorrow.",
            per_day,
        ) % {"count": per_day})


@transaction.atomic
def job_create(
    *, engine: str, inputs: list[str], params: dict, owner=None, limits: JobLimits = JobLimits(), retry_of: Job | None = None
) -> Job:
    """Create a queued job over ``inputs`` (the names of its photos in storage, in the order
    the engine takes them); it is sent to the workers once the surrounding transaction commits.
    A customer's job counts against their caps (job_quota_check)."""
    render_settings = job_settings(engine=engine, params=params, limits=limits, photos=len(inputs))
    if owner is not None:
        job_quota_check(owner=owner)
    job = Job.objects.create(
        engine=engine, params=render_settings.as_params(), owner=owner,
        priority=limits.priority, watermark=limits.watermark, retry_of=retry_of,
    )
    JobInput.objects.bulk_create(JobInput(job=job, position=position, file=name) for position, name in enumerate(inputs))
    transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    return job


def job_inputs_rename(*, job: Job, renamed: dict[str, str]) -> None:
    """Point ``job``'s photos at the names the storage chose when they were saved."""
    for old, new in renamed.items():
        if old != new:
            JobInput.objects.filter(job=job, file=old).update(file=new)


class RetryRefused(ValueError):
    """``str()`` tells the owner why the video cannot be made again."""


def job_retry(*, job: Job, limits: JobLimits = JobLimits()) -> Job:
    """A new queued job that makes a failed or canceled ``job`` again: same photos, engine and
    knobs, within today's ``limits``. Once per job: ``retry_of`` is unique, so of two clicks at
    once the database turns the second away."""
    if job.state not in (State.FAILED, State.CANCELED):
        raise RetryRefused(gettext("Only a video that failed or was canceled can be made again."))
    try:
        with transaction.atomic():
            inputs = [photo.file.name for photo in job.inputs.all()]
            return job_create(engine=job.engine, inputs=inputs, params=job.params, owner=job.owner, limits=limits, retry_of=job)
    except IntegrityError:
        if Job.objects.filter(retry_of=job).exists():
            raise RetryRefused(gettext("This video is already being made again.")) from None
        raise


def job_enqueue(*, job_id: int) -> bool:
    """Send a job's id to its engine's queue. Returns False, leaving the job queued, when the
    broker cannot be reached: ``manage.py requeue_jobs`` sends it again later."""
    job = Job.objects.get(pk=job_id)
    if job.state != State.QUEUED:
        return False
    return _ticket_send(job=job, queue=get_engine(job.engine).queue)


def _ticket_send(*, job: Job, queue: str) -> bool:
    """Send one ticket for ``queue``, naming ``job`` (whose ``enqueued_at`` it stamps)."""
    # Written before the message is sent: a worker that gets the message at once must not find
    # the row locked by this update (it skips locked rows) and go away empty-handed.
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    try:
        dispatch(job_id=job.pk, queue=queue, time_limit=queue_time_limit(queue))
    except Exception:
        logger.exception("Could not send job %s to the broker; it stays queued for requeue_jobs", job.pk)
        Job.objects.filter(pk=job.pk).update(enqueued_at=job.enqueued_at)
        return False
    return True


@dataclass(frozen=True)
class Sweep:
    recovered: int  # running jobs whose worker died, put back in line (or failed, out of attempts)
    sent: int  # tickets sent to top the queues up
    unreachable: tuple[str, ...] = ()  # queues whose broker could not be asked


def jobs_sweep() -> Sweep:
    """One pass of the `requeue` process: recover orphaned jobs, then top the queues up."""
    recovered = jobs_recover_orphans()
    sent, unreachable = jobs_send_missing_tickets()
    return Sweep(recovered=recovered, sent=sent, unreachable=tuple(unreachable))


def jobs_send_missing_tickets() -> tuple[int, list[str]]:
    """Make every queue hold a ticket for each of its queued jobs, in one pass.

    Per queue: the queued jobs, less the tickets waiting in the broker, is how many messages
    were lost (a broker restarted without persistence, a send that failed). That many are sent,
    naming the jobs in the order workers claim them. A spare ticket costs a worker one query
    and nothing else; one is sent when a sweep counts in the moment between a worker taking a
    message and claiming its job, or between a job's commit and its own send. Returns how many
    were sent, and the queues whose broker could not be asked (tried again next sweep)."""
    sent, unreachable = 0, []
    for queue in sorted({engine.queue for engine in all_engines()}):
        engines = [engine.name for engine in all_engines() if engine.queue == queue]
        queued = Job.objects.filter(state=State.QUEUED, engine__in=engines).order_by("-priority", "created_at")
        count = queued.count()
        if not count:
            continue
        try:
            missing = count - waiting_messages(queue=queue)
        except Exception:
            logger.warning("Could not count the messages waiting on queue %s; trying again next sweep", queue, exc_info=True)
            unreachable.append(queue)
            continue
        for job in queued[:max(0, missing)]:
            if not _ticket_send(job=job, queue=queue):
                unreachable.append(queue)
                break
            sent += 1
    return sent, unreachable


def jobs_recover_orphans() -> int:
    """Put back in line (or fail, out of attempts) every running job whose worker died."""
    recovered = 0
    for job_id in jobs_orphaned().values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.state != State.RUNNING or worker_alive(job.worker):
                continue  # it finished, or its worker beat, since the list was read
            job = job_recover(job=job, why=f"its worker {job.worker} stopped beating")
        recovered += 1
        if job.state == State.QUEUED:
            _ticket_send(job=job, queue=get_engine(job.engine).queue)
    return recovered


def job_recover(*, job: Job, why: str) -> Job:
    """A running job whose worker died goes back in line, or, after GENERATION_MAX_ATTEMPTS
    runs, fails with a reason and gives its credit back. Call with the row locked."""
    if job.attempts >= settings.GENERATION_MAX_ATTEMPTS:
        logger.error("Job %s: %s, on its attempt %s of %s; it fails.", job.pk, why, job.attempts, settings.GENERATION_MAX_ATTEMPTS)
        return job_fail(job_id=job.pk, reason=WORKER_LOST, detail=f"{why.capitalize()} on attempt {job.attempts}; no attempts left.")
    logger.warning("Job %s: %s; putting it back in line.", job.pk, why)
    return job_transition(job_id=job.pk, to=State.QUEUED)


@transaction.atomic
def job_transition(
    *, job_id: int, to: str, error: str = "", error_detail: str = "", run: int | None = None, outputs: list[JobOutput] = (), **fields
) -> Job:
    """Move a job to state ``to``. A worker finishing its run passes ``run`` (the attempt it
    took the job with): when the job has since been taken from it, StaleRun is raised. A job
    succeeds with its ``outputs`` (unsaved rows whose files are in storage), written with it."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if run is not None and (job.state != State.RUNNING or job.attempts != run):
        raise StaleRun(f"Job {job.pk}'s run {run} was taken from its worker (now {job.state}, attempt {job.attempts}).")
    if to not in ALLOWED_TRANSITIONS[job.state]:
        raise InvalidTransition(f"Job {job.pk} cannot go from {job.state} to {to}.")
    if (to == State.SUCCEEDED) != bool(outputs):
        raise InvalidTransition(f"Job {job.pk}: a job succeeds with its outputs, and only then has any.")
    now = timezone.now()
    job.state = to
    if to == State.RUNNING:
        job.started_at = now
        job.attempts += 1
        job.progress = 0
        job.worker = worker_name()
    elif to == State.QUEUED:  # back in line: its worker died
        job.progress = 0
        job.ticket = ""
    else:
        job.finished_at = now
    # The heartbeat of the worker process running it names the job it holds.
    if to == State.RUNNING:
        WorkerHeartbeat.objects.filter(worker=job.worker).update(job=job)
    else:
        WorkerHeartbeat.objects.filter(job=job).update(job=None)
    if to == State.SUCCEEDED:
        job.progress = 100
    job.error, job.error_detail = error[:300], error_detail
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()
    for position, output in enumerate(outputs):
        output.job, output.position = job, position
    JobOutput.objects.bulk_create(outputs)
    if to in Job.FINISHED_STATES:
        # In the same transaction as the state: the submitting side settles what it reserved
        # (the shop, its customer's credit) exactly once.
        job_ending.send(sender=Job, job=job)
        transaction.on_commit(lambda: job_finished.send(sender=Job, job_id=job.pk, state=to))
    return job


def job_cancel(*, job_id: int) -> Job:
    return job_transition(job_id=job_id, to=State.CANCELED, error="Canceled.")


def job_fail(*, job_id: int, reason: str, detail: str = "", run: int | None = None) -> Job:
    return job_transition(job_id=job_id, to=State.FAILED, error=reason, error_detail=detail, run=run)


def worker_heartbeat(*, queues: set[str]) -> None:
    """This worker process is alive (see WorkerHeartbeat)."""
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(worker=worker_name()).update(beat_at=now):  # one query, but the first time
        WorkerHeartbeat.objects.create(worker=worker_name(), queues=",".join(sorted(queues)), started_at=now, beat_at=now)


def worker_stopped() -> None:
    """This worker process stops cleanly: it is not a dead worker."""
    WorkerHeartbeat.objects.filter(worker=worker_name()).delete()


def workers_forget(*, silent_for_seconds: int = 7 * 24 * 3600) -> int:
    """Forget the heartbeats of workers dead for longer than ``silent_for_seconds``."""
    cutoff = timezone.now() - timezone.timedelta(seconds=silent_for_seconds)
    return WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).delete()[0]


class JobTimedOut(Exception):
    """A job ran past its own engine's time limit (the worker's limit is its queue's longest)."""


class _ProgressWriter:
    """Writes a running job's percent done, at most every PROGRESS_MIN_INTERVAL seconds, and
    stops the job once it has run past ``seconds``: a message's time limit is its queue's
    longest (the ticket may buy any job of the queue), so a job of a quicker engine is held to
    its own limit here, at its next step."""

    def __init__(self, job_id: int, run: int, seconds: float):
        self.job_id = job_id
        self.run = run
        self.last_percent = 0
        self.last_write = 0.0
        self.deadline = time.monotonic() + seconds

    def __call__(self, fraction: float) -> None:
        percent = min(99, int(fraction * 100))
        now = time.monotonic()
        if now > self.deadline:
            raise JobTimedOut
        if percent > self.last_percent and now - self.last_write >= PROGRESS_MIN_INTERVAL:
            Job.objects.filter(pk=self.job_id, state=State.RUNNING, attempts=self.run).update(progress=percent)
            self.last_percent, self.last_write = percent, now


def engine_time_limit(engine) -> int:
    """Seconds a job of ``engine`` may run: GENERATION_TIME_LIMITS, or the engine's own limit."""
    return settings.GENERATION_TIME_LIMITS.get(engine.name, engine.time_limit)


def queue_time_limit(queue: str) -> int:
    """Seconds a job on ``queue`` may run: the longest limit of the engines that run there."""
    return max(engine_time_limit(engine) for engine in all_engines() if engine.queue == queue)


def job_claim(*, queue: str, ticket: str) -> Job | None:
    """Take the next job for a worker on ``queue``: Premium jobs first, then the oldest.

    A message on the queue is a ticket for one run, not for one particular job, so Premium
    jobs overtake free ones whatever order their messages arrived in. The ticket is written
    on the job it buys; when the same ticket comes back (the broker redelivers the message of
    a worker that died), the job that worker held goes back in line first, so nothing is lost.
    A ticket can also come back while its worker lives (RabbitMQ redelivers when the worker's
    connection blinked): that job is left to finish.
    """
    engines = [engine.name for engine in all_engines() if engine.queue == queue]
    with transaction.atomic():
        for orphan in Job.objects.select_for_update().filter(state=State.RUNNING, ticket=ticket):
            if worker_alive(orphan.worker):
                logger.info("Job %s's message came back, but its worker %s is alive; leaving it running.", orphan.pk, orphan.worker)
                continue
            job_recover(job=orphan, why=f"its worker {orphan.worker} died")
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(state=State.QUEUED, engine__in=engines)
            .order_by("-priority", "created_at")
            .first()
        )
        if job is None:
            return None
        return job_transition(job_id=job.pk, to=State.RUNNING, ticket=ticket)


def job_run_next(*, queue: str, ticket: str) -> Job | None:
    """What a worker does with a message: claim the next job on its queue and run it."""
    job = job_claim(queue=queue, ticket=ticket)
    return _job_run(job) if job else None


def _connection_reset() -> None:
    """Drop this process's database connection (the next query opens a new one), unless it is
    inside a transaction, which owns it."""
    if not connection.in_atomic_block:
        connection.close()


def _job_run(job: Job) -> Job:
    """Render a running job's outputs, store them and finish it: succeeded, or failed with a
    reason for the customer and the detail for staff."""
    stored: list[JobOutput] = []
    try:
        engine = get_engine(job.engine)
        render_settings = engine.settings(job.params)
        photos = []
        for photo in job.inputs.all():
            with photo.file.open("rb") as handle, Image.open(handle) as image:
                photos.append(image.convert("RGB"))
        with tempfile.TemporaryDirectory(prefix=f"job-{job.pk}-") as folder:
            rendered = render_outputs(
                engine, photos, render_settings, Path(folder), _ProgressWriter(job.pk, job.attempts, engine_time_limit(engine)),
                watermark=job.watermark,
            )
            for output in rendered:
                stored.append(_output_store(job, output))
    except EngineError as error:
        return _job_end(job, job_fail, stored, reason=str(error))
    except (JobTimedOut, *time_limit_errors()):
        # The limit can strike in the middle of a query (a progress update), leaving the
        # database connection unusable: start the failure's write on a fresh one.
        _connection_reset()
        return _job_end(job, job_fail, stored, reason=TIMED_OUT, detail=f"Stopped after {engine_time_limit(engine)} s.")
    except Exception:
        logger.exception("Job %s failed", job.pk)
        _connection_reset()
        return _job_end(job, job_fail, stored, reason=GENERIC_FAILURE, detail=traceback.format_exc())
    return _job_end(job, job_transition, stored, to=State.SUCCEEDED, outputs=stored)


def _output_store(job: Job, output: RenderedOutput) -> JobOutput:
    """Save one rendered file in storage, as an unsaved row that knows its size and checksum."""
    row = JobOutput(
        job=job, kind=output.kind, width=output.width, height=output.height,
        frame_count=output.frame_count, duration=output.duration,
    )
    with output.path.open("rb") as handle:
        row.sha256, row.bytes = media.stream_sha256(handle)
        handle.seek(0)
        field = JobOutput._meta.get_field("file")
        row.file = field.storage.save(field.generate_filename(row, output.path.name), File(handle))
    return row


def _job_end(job: Job, finish, stored: list[JobOutput], **fields) -> Job:
    """Finish this worker's run of ``job`` with ``finish`` (job_transition or job_fail). The
    files it ``stored`` are deleted when the job fails, or when it was taken from this worker
    meanwhile (StaleRun), so a job's outputs are written once."""
    try:
        job = finish(job_id=job.pk, run=job.attempts, **fields)
    except StaleRun:
        logger.warning("Job %s was put back in line while this worker ran it; dropping this run's files.", job.pk)
        files_delete_on_commit(output.file.name for output in stored)
        return Job.objects.get(pk=job.pk)
    if job.state != State.SUCCEEDED:
        files_delete_on_commit(output.file.name for output in stored)
    return job


def jobs_delete(*, source: str = "", owner=None) -> int:
    """Delete the jobs made from the photo ``source`` (a name in storage), or all of
    ``owner``'s, and their files (photos and outputs) once the transaction commits. An unfinished one is canceled first, which gives its credit back
    (once); the credit ledger keeps its entries. Returns how many were deleted."""
    if not (source or owner):
        raise ValueError("Say whose jobs, or which photo's.")
    jobs = Job.objects.filter(**({"pk__in": JobInput.objects.filter(file=source).values("job")} if source else {}), **({"owner": owner} if owner else {}))
    with transaction.atomic():
        for job in jobs.exclude(state__in=Job.FINISHED_STATES):
            try:
                job_cancel(job_id=job.pk)
            except InvalidTransition:  # it finished meanwhile, and settled its credit then
                pass
        doomed = list(jobs.select_for_update())
        files_delete_on_commit(name for job in doomed for name in job_files(job))
        Job.objects.filter(pk__in=[job.pk for job in doomed]).delete()
        return len(doomed)
