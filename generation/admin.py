from django.contrib import admin, messages

from . import selectors, services
from .models import EngineReport, Job, JobInput, JobOutput, Pastime, WorkerHeartbeat


class OrphanedFilter(admin.SimpleListFilter):
    title = "worker"
    parameter_name = "orphaned"

    def lookups(self, request, model_admin):
        return [("yes", "Orphaned: running, its worker dead")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(orphaned=True)  # JobAdmin.get_queryset's flag
        return queryset


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JobInputInline(_ReadOnlyInline):
    model = JobInput
    fields = readonly_fields = ["position", "file"]
    verbose_name_plural = "Photos"


class JobOutputInline(_ReadOnlyInline):
    model = JobOutput
    fields = readonly_fields = ["position", "kind", "file", "width", "height", "frame_count", "duration", "bytes", "sha256"]
    verbose_name_plural = "Outputs"


class _WrittenByWorkersAdmin(admin.ModelAdmin):
    """Rows the workers write: staff may look and, with the permission, delete; never add or edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "engine", "state", "priority", "watermark", "progress", "owner", "created_at", "started_at", "finished_at", "run_time", "attempts", "worker_state", "short_error"]
    list_filter = [OrphanedFilter, "state", "engine", "priority", "created_at"]
    search_fields = ["=id", "owner__email", "error", "worker"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    actions = ["cancel_jobs", "requeue_jobs"]
    readonly_fields = [
        "owner", "engine", "params", "priority", "watermark", "state", "progress", "error", "error_detail", "attempts",
        "worker", "ticket", "created_at", "enqueued_at", "started_at", "finished_at", "run_time",
    ]
    fieldsets = [
        (None, {"fields": ["owner", "engine", "priority", "watermark", "params"]}),
        ("State", {"fields": ["state", "progress", "attempts", "worker", "ticket", "error", "error_detail"]}),
        ("Timings", {"fields": ["created_at", "enqueued_at", "started_at", "finished_at", "run_time"]}),
    ]
    inlines = [JobInputInline, JobOutputInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Run time")
    def run_time(self, job):
        return f"{job.run_seconds:.1f} s" if job.run_seconds is not None else "—"

    @admin.display(description="Error")
    def short_error(self, job):
        return job.error[:60]

    def get_queryset(self, request):
        return selectors.jobs_with_orphaned_flag(super().get_queryset(request))

    @admin.display(description="Worker")
    def worker_state(self, job):
        """Orphaned when it runs on a dead worker (the next sweep puts it back in line)."""
        if getattr(job, "orphaned", False):
            return f"ORPHANED: {job.worker} is dead"
        return job.worker if job.state == Job.State.RUNNING else ""

    @admin.action(description="Cancel the selected jobs that have not finished", permissions=["change"])
    def cancel_jobs(self, request, queryset):
        done = 0
        for job in queryset.exclude(state__in=Job.FINISHED_STATES):
            try:
                services.job_cancel(job_id=job.pk)
                done += 1
            except services.InvalidTransition:
                pass
        self.message_user(request, f"Canceled {done} job(s).", messages.SUCCESS)

    @admin.action(description="Send the selected queued jobs to the workers again", permissions=["change"])
    def requeue_jobs(self, request, queryset):
        sent = sum(services.job_enqueue(job_id=pk) for pk in queryset.filter(state=Job.State.QUEUED).values_list("pk", flat=True))
        self.message_user(request, f"Sent {sent} job(s) to the workers.", messages.SUCCESS)


@admin.register(EngineReport)
class EngineReportAdmin(_WrittenByWorkersAdmin):
    """What each worker process last said about the engines it can run (written by workers)."""

    list_display = ["engine", "worker", "ready", "reason", "reported_at"]
    list_filter = ["engine", "ready"]
    search_fields = ["worker", "engine", "reason"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(_WrittenByWorkersAdmin):
    """The worker processes that beat (written by workers): alive, or dead with the job they held."""

    list_display = ["worker", "alive", "queues", "job", "beat_at", "started_at"]
    list_select_related = ["job"]
    search_fields = ["worker"]

    @admin.display(description="Alive", boolean=True)
    def alive(self, beat):
        return selectors.heartbeat_fresh(beat)


class _JobPartAdmin(_WrittenByWorkersAdmin):
    """A job's photos and outputs go with the job (and their files after it), never alone."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(JobInput)
class JobInputAdmin(_JobPartAdmin):
    """Every job's photos (written when a job is made); a job's page lists its own."""

    list_display = ["job", "position", "file"]
    list_select_related = ["job"]
    search_fields = ["=job__id", "file"]


@admin.register(JobOutput)
class JobOutputAdmin(_JobPartAdmin):
    """Every file a job made (written by workers): find one by its name or its checksum."""

    list_display = ["job", "position", "kind", "width", "height", "bytes", "file"]
    list_filter = ["kind"]
    list_select_related = ["job"]
    search_fields = ["=job__id", "file", "=sha256"]


@admin.register(Pastime)
class PastimeAdmin(admin.ModelAdmin):
    """The pastimes pastime-images paints people doing: each one's prompts and optional pose
    reference. A job copies them when it is made; a pastime switched off is offered no more."""

    list_display = ["name", "slug", "active", "position", "has_pose"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "prompt"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "prompt", "negative_prompt", "pose", "active", "position"]
    actions = ["offer", "withdraw"]

    @admin.display(description="Pose reference", boolean=True)
    def has_pose(self, pastime):
        return bool(pastime.pose)

    @admin.action(description="Offer the selected pastimes", permissions=["change"])
    def offer(self, request, queryset):
        self.message_user(request, f"Offered {queryset.update(active=True)} pastime(s).", messages.SUCCESS)

    @admin.action(description="Stop offering the selected pastimes", permissions=["change"])
    def withdraw(self, request, queryset):
        self.message_user(request, f"Withdrew {queryset.update(active=False)} pastime(s).", messages.SUCCESS)
