"""How long customers wait after a failure, with production's recovery settings: the figures of
docs/operations.md ("When a worker or the broker dies").

Two scenarios, each run --trials times, alternating, with real processes: a Celery worker
(prefork, concurrency 2), the sweep (`requeue_jobs --every`, GENERATION_SWEEP_SECONDS) and a Redis
this script starts on a port of its own, keeping nothing on disk.

- outage: two long jobs running and six waiting in Redis; Redis is killed (its messages are
  gone), stays down for --outage seconds while four more photos are uploaded, and comes back.
  Measured: broker back → every one of the ten queued jobs has a message again (bound: one
  sweep interval), and → the last of them taken by a worker (that, plus the queue's own drain).
- dead-worker: the whole worker (main process and pool) is SIGKILLed in the middle of a job and
  a new one started at once. Measured: the kill → the job running again, and → finished.

Each trial starts the failure at another point of the sweep's cycle (a seeded offset of 0 to
GENERATION_SWEEP_SECONDS). Each figure is printed beside its documented bound (the settings'
sum) as a ratio.

    .venv/bin/python bench/recovery.py [--trials 3] [--outage 15] [--database-url postgres://…]

Without --database-url a fresh SQLite file is used; production's figures are taken on PostgreSQL.
"""
from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PHOTO = ROOT / "tests" / "cat.jpg"
LONG = {"aspect": "1:1", "height": 1080, "seconds": 10, "fps": 30}
SHORT = {"aspect": "1:1", "height": 480, "seconds": 4, "fps": 24}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"Timed out after {timeout} s waiting for {what}")


class Processes:
    """The processes of one trial, each in its own process group, stopped by their ids."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.started = env, logs, []

    def start(self, name: str, command: list[str], ready: str | None = None) -> subprocess.Popen:
        log = self.logs / f"{name}-{len(self.started)}.log"
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        if ready:
            wait(lambda: ready in log.read_text() or process.poll() is not None, 60, name)
            if process.poll() is not None:
                raise SystemExit(log.read_text())
        return process

    def worker(self) -> subprocess.Popen:
        return self.start("worker", [
            sys.executable, "-m", "celery", "-A", "petmemories", "worker", "--queues", "cpu", "--concurrency", "2",
            "--prefetch-multiplier", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        ], ready="ready.")

    def sweep(self) -> subprocess.Popen:
        return self.start("sweep", [sys.executable, "manage.py", "requeue_jobs", "--every"])

    def redis(self, port: int) -> subprocess.Popen:
        process = self.start("redis", [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.logs)])
        import redis

        def answers():
            try:
                return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
            except redis.RedisError:
                return False

        wait(answers, 20, "Redis")
        return process

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self.started.clear()


def make_job(params: dict):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.db import transaction

    from generation.limits import JobLimits
    from generation.photos import photo_normalize
    from generation.services import job_create

    with PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    source = default_storage.save("photos/bench.jpg", ContentFile(photo.jpeg))
    with transaction.atomic():
        return job_create(engine="living-photo", inputs=[source], params=params, limits=JobLimits(max_height=1080))


def job(pk: int):
    from generation.models import Job

    return Job.objects.get(pk=pk)


def outage(processes: Processes, port: int, down_for: float, phase: float) -> dict:
    from django.utils import timezone

    from generation.models import Job

    redis_server = processes.redis(port)
    processes.worker()
    processes.sweep()
    time.sleep(phase)  # where in the sweep's cycle (and the heartbeats') the failure falls
    running = [make_job(LONG).pk for _ in range(2)]
    wait(lambda: all(job(pk).progress >= 5 for pk in running), 120, "the long jobs to be under way")
    waiting = [make_job(SHORT).pk for _ in range(6)]
    redis_server.kill()
    redis_server.wait()
    during = []
    for _ in range(4):
        during.append(make_job(SHORT).pk)
        time.sleep(down_for / 4)
    processes.redis(port)
    back, back_at = time.monotonic(), timezone.now()
    queued = waiting + during
    # A job has its message again once it was sent after the broker came back, or was taken.
    unsent = Job.objects.filter(pk__in=queued, state=Job.State.QUEUED).exclude(enqueued_at__gte=back_at)
    wait(lambda: not unsent.exists(), 600, "every job to have a message", interval=0.02)
    sent = time.monotonic() - back
    wait(lambda: not Job.objects.filter(pk__in=queued, state=Job.State.QUEUED).exists(), 600, "every job to be taken")
    taken = time.monotonic() - back
    wait(lambda: not Job.objects.filter(pk__in=queued + running).exclude(state__in=Job.FINISHED_STATES).exists(), 600, "every job to finish")
    failed = Job.objects.filter(pk__in=queued + running).exclude(state=Job.State.SUCCEEDED).count()
    return {"broker back → every job sent": sent, "broker back → last job taken": taken, "failed": failed}


def dead_worker(processes: Processes, port: int, phase: float) -> dict:
    processes.redis(port)
    first = processes.worker()
    processes.sweep()
    time.sleep(phase)
    pk = make_job(LONG).pk
    wait(lambda: job(pk).progress >= 5, 120, "the job to be under way")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed = time.monotonic()
    processes.worker()
    wait(lambda: job(pk).attempts >= 2, 600, "the job to run again")
    again = time.monotonic() - killed
    wait(lambda: job(pk).is_finished, 600, "the job to finish")
    done = time.monotonic() - killed
    return {"kill → running again": again, "kill → finished": done, "failed": int(job(pk).state != "succeeded")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--outage", type=float, default=15.0, help="Seconds the broker stays down.")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("bench/recovery.py needs redis-server on the PATH.")

    var = Path(tempfile.mkdtemp(prefix="petmemories-bench-recovery-"))
    port = free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.local", "VAR_DIR": str(var), "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": args.database_url or f"sqlite:///{var / 'bench.sqlite3'}", "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "MEDIA_ROOT": str(var / "media"),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Uploads made while the broker is down log their failed send with a traceback; the figures
    # are what matters here.
    logging.getLogger("generation.services").setLevel(logging.CRITICAL)
    bounds = {
        "broker back → every job sent": settings.GENERATION_SWEEP_SECONDS,
        "kill → running again": settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + settings.GENERATION_SWEEP_SECONDS,
    }
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}; database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"settings: heartbeat {settings.GENERATION_HEARTBEAT_SECONDS} s, dead after {settings.GENERATION_WORKER_DEAD_AFTER_SECONDS} s, "
          f"sweep every {settings.GENERATION_SWEEP_SECONDS} s; outage {args.outage:g} s")
    results: dict[str, list[float]] = {}
    failed = 0
    # The failure falls at a different point of the sweep's cycle in each trial (seeded, so two
    # runs of the script try the same points).
    phases = random.Random(14).sample(range(settings.GENERATION_SWEEP_SECONDS), k=min(args.trials * 2, settings.GENERATION_SWEEP_SECONDS))
    for trial in range(args.trials):
        for scenario in ("outage", "dead-worker"):  # alternating
            phase = phases.pop() if phases else 0
            processes = Processes(env, var)
            try:
                if scenario == "outage":
                    figures = outage(processes, port, args.outage, phase)
                else:
                    figures = dead_worker(processes, port, phase)
            finally:
                processes.stop()
            failed += figures.pop("failed")
            for name, seconds in figures.items():
                results.setdefault(name, []).append(seconds)
                print(f"  trial {trial + 1} {scenario:<11} (+{phase:2d} s) {name}: {seconds:6.1f} s", flush=True)
    print(f"\n{'figure':<30} {'median':>7} {'min':>7} {'max':>7} {'bound':>7} {'median/bound':>12}")
    for name, values in results.items():
        bound = bounds.get(name)
        ratio = f"{statistics.median(values) / bound:12.2f}" if bound else f"{'—':>12}"
        print(f"{name:<30} {statistics.median(values):7.1f} {min(values):7.1f} {max(values):7.1f} {bound or '—':>7} {ratio}")
    print(f"jobs not succeeded: {failed}")
    shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
