from django.core.management.base import BaseCommand

from generation.selectors import jobs_orphaned, queue_report, workers_report


class Command(BaseCommand):
    help = (
        "Worker and queue health: jobs waiting and running per queue, the worker processes alive and dead "
        "(from their heartbeats), the running jobs whose worker died, and which workers answer a ping."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=2.0, help="Seconds to wait for workers to answer.")

    def handle(self, *args, timeout, **options):
        self.stdout.write(f"{'queue':<6} {'queued':>6} {'priority':>8} {'running':>7} {'oldest wait':>12}  engines")
        for row in queue_report():
            self.stdout.write(
                f"{row['queue']:<6} {row['queued']:>6} {row['priority_queued']:>8} {row['running']:>7} "
                f"{row['oldest_wait_s']:>10.1f} s  {', '.join(row['engines'])}"
            )
        self.workers()
        self.orphans()
        self.ping(timeout)

    def workers(self):
        rows = workers_report()
        if not rows:
            self.stdout.write(self.style.WARNING("No worker process has a heartbeat."))
        for row in rows:
            holds = f"job {row['job_id']}" if row["job_id"] else "idle"
            line = f"worker {row['worker']} [{row['queues']}] {holds}, last beat {row['silent_s']:.0f} s ago"
            self.stdout.write(line if row["alive"] else self.style.ERROR(f"DEAD {line}"))

    def orphans(self):
        for job in jobs_orphaned():
            self.stdout.write(self.style.ERROR(
                f"ORPHANED job {job.pk} ({job.engine}, attempt {job.attempts}, {job.progress} %): "
                f"its worker {job.worker or '?'} is silent; the next sweep (requeue_jobs) puts it back in line"
            ))

    def ping(self, timeout):
        from core.celery import app

        try:
            replies = app.control.ping(timeout=timeout) or []
        except Exception as error:  # the broker is down: say so rather than crash
            self.stdout.write(self.style.ERROR(f"Could not ask the workers: {error}"))
            return
        if not replies:
            self.stdout.write(self.style.WARNING("No worker answered."))
        for reply in replies:
            for name, answer in reply.items():
                self.stdout.write(f"worker {name}: {answer.get('ok', answer)}")
