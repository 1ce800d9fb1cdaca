from django.contrib import admin, messages

from . import services
from .models import EngineReport, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "engine", "state", "priority", "watermark", "progress", "owner", "created_at", "started_at", "finished_at", "run_time", "attempts", "short_error"]
    list_filter = ["state", "engine", "priority", "created_at"]
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
