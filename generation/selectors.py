from django.db.models import Count, Min, Q
from django.utils import timezone

from .engines import all_engines
from .models import Job


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
