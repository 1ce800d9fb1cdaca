import os
import socket

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from .engines import InvalidSettings, all_engines, get_engine
from .models import Job, JobInput, JobOutput, Pastime, WorkerHeartbeat


def jobs_that_made(kind: str) -> QuerySet:
    """The ids of the jobs with an output of ``kind`` (JobOutput.Kind), for a filter such as
    ``job__in=jobs_that_made(VIDEO)``."""
    return JobOutput.objects.filter(kind=kind).values("job")


def job_files(job: Job) -> list[str]:
    """The names in storage of ``job``'s photos and of what it made."""
    return [
        *JobInput.objects.filter(job=job).values_list("file", flat=True),
        *JobOutput.objects.filter(job=job).values_list("file", flat=True),
    ]


def queue_position(*, job: Job) -> int | None:
    """Where ``job`` stands in its queue: 1 when it is next. In the order workers claim jobs
    (services.job_claim: Premium first, then the oldest), across every engine of its queue.
    None when it is not queued."""
    if job.state != Job.State.QUEUED:
        return None
    engines = [engine.name for engine in all_engines() if engine.queue == get_engine(job.engine).queue]
    if job.priority:
        ahead = Q(priority=True, created_at__lt=job.created_at)
    else:
        ahead = Q(priority=True) | Q(created_at__lt=job.created_at)
    return Job.objects.filter(ahead, state=Job.State.QUEUED, engine__in=engines).exclude(pk=job.pk).count() + 1


def queue_report() -> list[dict]:
    """Per worker queue: its engines, jobs waiting and running, and how long the oldest has waited."""
    now = timezone.now()
    rows = []
    for queue in sorted({engine.queue for engine in all_engines()}):
        engines = [engine.name for engine in all_engines() if engine.queue == queue]
        stats = Job.objects.filter(engine__in=engines).aggregate(
            queued=Count("pk", filter=Q(state=Job.State.QUEUED)),
            priority_queued=Count("pk", filter=Q(state=Job.State.QUEUED, priority=True)),
            running=Count("pk", filter=Q(state=Job.State.RUNNING)),
            oldest=Min("created_at", filter=Q(state=Job.State.QUEUED)),
        )
        waited = (now - stats.pop("oldest")).total_seconds() if stats["queued"] else 0.0
        rows.append({"queue": queue, "engines": engines, **stats, "oldest_wait_s": round(waited, 1)})
    return rows


def _silent_since():
    return timezone.now() - timezone.timedelta(seconds=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS)


def _process_gone(worker: str) -> bool:
    """Whether ``worker`` ("host:pid") is a process of this machine that no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def worker_alive(worker: str) -> bool:
    """Whether the worker process ``worker`` still runs: it beat recently and, when it ran on
    this machine, its process exists."""
    if _process_gone(worker):
        return False
    return WorkerHeartbeat.objects.filter(worker=worker, beat_at__gte=_silent_since()).exists()


def heartbeat_fresh(beat: WorkerHeartbeat) -> bool:
    return beat.beat_at >= _silent_since()


def _orphaned(silent_since) -> Q:
    alive = WorkerHeartbeat.objects.filter(worker=OuterRef("worker"), beat_at__gte=silent_since)
    return Q(state=Job.State.RUNNING, started_at__lt=silent_since) & ~Q(Exists(alive))


def jobs_orphaned() -> QuerySet[Job]:
    """Running jobs whose worker has been silent for GENERATION_WORKER_DEAD_AFTER_SECONDS (or
    never beat at all since the job started that long ago)."""
    return Job.objects.filter(_orphaned(_silent_since())).order_by("started_at")


def jobs_with_orphaned_flag(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """``jobs``, each with ``orphaned``: running on a worker that died."""
    return jobs.annotate(orphaned=ExpressionWrapper(_orphaned(_silent_since()), output_field=BooleanField()))


def workers_report() -> list[dict]:
    """Every worker process that has beaten and not stopped cleanly: alive or dead, its queues,
    the job it holds and how long ago it last beat. The dead ones first."""
    now = timezone.now()
    silent_since = _silent_since()
    rows = [
        {
            "worker": beat.worker, "queues": beat.queues, "job_id": beat.job_id, "alive": beat.beat_at >= silent_since,
            "silent_s": round((now - beat.beat_at).total_seconds(), 1), "started_at": beat.started_at,
        }
        for beat in WorkerHeartbeat.objects.all()
    ]
    return sorted(rows, key=lambda row: (row["alive"], row["worker"]))


def pastimes_offered() -> QuerySet[Pastime]:
    """The pastimes customers may choose, in the catalogue's order."""
    return Pastime.objects.filter(active=True)


def pastime_params(*, slug: str) -> dict[str, str]:
    """What a pastime-images job carries of the pastime ``slug``: its prompt, negative prompt and
    pose reference (a name in storage, or empty), as the catalogue has them now; InvalidSettings,
    naming the pastimes there are, for a pastime that is not offered."""
    pastime = pastimes_offered().filter(slug=slug).first()
    if pastime is None:
        known = ", ".join(pastimes_offered().values_list("slug", flat=True))
        message = gettext("There is no pastime called %(slug)r; choose one of %(known)s.") if slug else gettext("Choose a pastime: %(known)s.")
        raise InvalidSettings(message % {"slug": slug, "known": known}, field="pastime")
    return {"pastime": pastime.slug, "prompt": pastime.prompt, "negative_prompt": pastime.negative_prompt, "pose": pastime.pose.name or ""}
