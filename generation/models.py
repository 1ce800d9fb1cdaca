from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .engines import UnknownEngine, get_engine
from .engines.base import ANIMATION, IMAGE, POSTER, VIDEO


def _output_path(output, filename):
    return f"renders/{output.job_id}/{filename}"


class Job(models.Model):
    """One run of an engine over its photos (``inputs``), making its ``outputs``.

    The database row is the source of truth for a job's state; the queue carries only its
    id. State changes go through ``generation.services`` only.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    FINISHED_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    engine = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    priority = models.BooleanField(default=False, help_text="Goes ahead of other jobs in the queue (the owner's plan says so).")
    watermark = models.BooleanField(default=True, help_text="The video carries the small PetMemories mark (the owner's plan says so).")

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done while running.")
    error = models.CharField(max_length=300, blank=True, help_text="The reason shown to the customer.")
    error_detail = models.TextField(blank=True, help_text="Technical detail for staff.")
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, help_text="The worker that ran it last.")
    ticket = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="The broker message a worker took this job with; if that worker dies, the redelivered message puts the job back in line.",
    )

    retry_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retry", editable=False,
        help_text="The failed or canceled job this one makes again; each is made again once at most.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)


    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_at_most_100"),
        ]

    def __str__(self):
        return f"Job {self.pk} ({self.engine}, {self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def run_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    # What a job made, for pages and the frames' API. They read ``outputs.all()``, so a
    # queryset that prefetches ``outputs`` asks nothing more.
    def outputs_of(self, kind: str) -> list["JobOutput"]:
        return [output for output in self.outputs.all() if output.kind == kind]

    def _first(self, kind: str) -> "JobOutput | None":
        return next(iter(self.outputs_of(kind)), None)

    @property
    def video(self) -> "JobOutput | None":
        return self._first(VIDEO)

    @property
    def animation(self) -> "JobOutput | None":
        return self._first(ANIMATION)

    @property
    def poster(self) -> "JobOutput | None":
        return self._first(POSTER)

    @property
    def images(self) -> list["JobOutput"]:
        return self.outputs_of(IMAGE)

    @property
    def makes_video(self) -> bool:
        """Whether pages and emails speak of a video or of photos: what the job made, once it has
        succeeded; until then what its engine makes (an engine since removed: a video, as every
        job was before image engines)."""
        if self.state == self.State.SUCCEEDED:
            return self.video is not None
        try:
            return VIDEO in get_engine(self.engine).makes
        except UnknownEngine:
            return True

    @property
    def cover(self) -> "JobOutput | None":
        """The still that stands for the job in a gallery: the video's poster, or the first image."""
        return self.poster or next(iter(self.images), None)


class JobInput(models.Model):
    """One of a job's photos, in the order the engine takes them. A job made again shares its
    photos' files with the job it makes again."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="inputs")
    position = models.PositiveSmallIntegerField()
    file = models.FileField(max_length=255, help_text="An upright, EXIF-free JPEG in storage.")

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="job_input_position_unique")]
        indexes = [models.Index(fields=["file"])]

    def __str__(self):
        return f"Photo {self.position + 1} of job {self.job_id}"


class JobOutput(models.Model):
    """One file a job made, in the order the engine makes them, with what a player, a frame or
    a download needs to know about it without opening it."""

    class Kind(models.TextChoices):
        VIDEO = VIDEO, _("Video (MP4)")
        ANIMATION = ANIMATION, _("Animation (GIF)")
        POSTER = POSTER, _("Poster (JPEG)")
        IMAGE = IMAGE, _("Image")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="outputs")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to=_output_path, max_length=255)
    bytes = models.PositiveBigIntegerField(help_text="Size of the file.")
    sha256 = models.CharField(max_length=64, help_text="Of the file, for frames and downloads to check what they got.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    frame_count = models.PositiveIntegerField(null=True, blank=True, help_text="A video's or an animation's.")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, for a video or an animation.")

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="job_output_position_unique")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.position + 1} of job {self.job_id}"

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1].lower() if "." in self.file.name else ""


class EngineReport(models.Model):
    """What a worker process last said about whether it can run an engine.

    The web process need not have a GPU, the weights or even torch to offer a GPU engine: it
    offers one while some worker has recently said it can run it."""

    worker = models.CharField(max_length=200)
    engine = models.CharField(max_length=40)
    ready = models.BooleanField()
    reason = models.CharField(max_length=300, blank=True)
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["engine", "worker"]
        constraints = [models.UniqueConstraint(fields=["worker", "engine"], name="engine_report_one_per_worker")]

    def __str__(self):
        return f"{self.engine} on {self.worker}: {'ready' if self.ready else self.reason}"


class WorkerHeartbeat(models.Model):
    """A worker process's sign of life, written every GENERATION_HEARTBEAT_SECONDS by the
    process that runs the jobs (a pool process, not a prefork parent), with the job it holds.

    A running job whose worker has not beaten for GENERATION_WORKER_DEAD_AFTER_SECONDS is
    orphaned: ``manage.py requeue_jobs`` puts it back in line. A worker that stops cleanly
    deletes its row, so a row that has gone quiet is a worker that died."""

    worker = models.CharField(max_length=200, unique=True, help_text="Host and process id, as jobs name it.")
    queues = models.CharField(max_length=100, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The job it is running now.")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["worker"]
        verbose_name = "worker"

    def __str__(self):
        return self.worker


class Pastime(models.Model):
    """Something a person loved doing, which pastime-images paints them doing: its prompt and
    negative prompt for SDXL and, optionally, a pose reference (an OpenPose skeleton picture) for
    the pose ControlNet. A job copies them when it is made (selectors.pastime_params), so editing
    a pastime changes the pictures made from then on."""

    slug = models.SlugField(max_length=40, unique=True, help_text="How jobs and `manage.py pastime --pastime` name it.")
    name = models.CharField(max_length=80, help_text="Shown to customers: in English, translated where the message catalogue has it.")
    prompt = models.TextField(help_text="What SDXL paints: the scene, the light, the camera. The photos give the face.")
    negative_prompt = models.TextField(blank=True, help_text="What SDXL should keep out of the pictures.")
    pose = models.ImageField(
        upload_to="pastimes/poses/", max_length=255, blank=True,
        help_text="Optional: an OpenPose skeleton picture (coloured limbs on black) of the figure's pose, used as it is.",
    )
    active = models.BooleanField(default=True, help_text="Offered to customers, and accepted for new jobs.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Where it comes in lists: lowest first.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name
