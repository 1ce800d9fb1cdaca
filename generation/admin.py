from django.contrib import admin, messages

from . import selectors, services
from .models import EngineReport, Job, WorkerHeartbeat


class OrphanedFilter(admin.SimpleListFilter):
    title = "worker"
    parameter_name = "orphaned"

    def lookups(self, request, model_admin):
        return [("yes", "Orphaned: running, its worker dead")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(orphaned=True)  # JobAdmin.get_queryset's flag
        return queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "engine", "state", "priority", "watermark", "progress", "owner", "created_at", "started_at", "finished_at", "run_time", "attempts", "worker_state", "short_error"]
    list_filter = [OrphanedFilter, "state", "engine", "priority", "created_at"]
    search_fields = ["=id", "owner__email", "error", "worker"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    actions = ["cancel_jobs", "requeue_jobs"]
    readonly_fields = [
        "owner", "engine", "params", "priority", "watermark", "source", "state", "progress", "error", "error_detail", "attempts",
        "worker", "ticket", "created_at", "enqueued_at", "started_at", "finished_at", "run_time", "video", "gif",
        "poster", "width", "height", "frame_count", "duration"
    ]
    fieldsets = [
        (None, {"fields": ["owner", "engine", "priority", "watermark", "params", "source"]}),
        ("State", {"fields": ["state", "progress", "attempts", "worker", "ticket", "error", "error_detail"]}),
        ("Timings", {"fields": ["created_at", "enqueued_at", "started_at", "finished_at", "run_time"]}),
        ("Result", {"fields": ["video", "gif", "poster", "width", "height", "frame_count", "duration"]}),
    ]

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
class EngineReportAdmin(admin.ModelAdmin):
    """What each worker process last said about the engines it can run (written by workers)."""

    list_display = ["engine", "worker", "ready", "reason", "reported_at"]
    list_filter = ["engine", "ready"]
    search_fields = ["worker", "engine", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """The worker processes that beat (written by workers): alive, or dead with the job they held."""

    list_display = ["worker", "alive", "queues", "job", "beat_at", "started_at"]
    list_select_related = ["job"]
    search_fields = ["worker"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Alive", boolean=True)
    def alive(self, beat):
        return selectors.heartbeat_fresh(beat)
