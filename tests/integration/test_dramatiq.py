"""The same job code behind Dramatiq (GENERATION_TASK_BACKEND=dramatiq), with a real Dramatiq
worker process on a real Redis."""
import os
import signal
import subprocess
import sys

import pytest
import redis

from generation.models import Job
from tests.conftest import ROOT, database_url_for_tests, require, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
REDIS_URL = os.environ.get("PETMEMORIES_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def dramatiq_worker(settings, media_root, tmp_path):
    require(redis_answers(), f"Redis does not answer at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings.GENERATION_TASK_BACKEND = "dramatiq"
    settings.DRAMATIQ_BROKER_URL = REDIS_URL
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "DATABASE_URL": database_url_for_tests(),
        "MEDIA_ROOT": str(media_root), "GENERATION_TASK_BACKEND": "dramatiq", "DRAMATIQ_BROKER_URL": REDIS_URL,
    }
    log = tmp_path / "dramatiq.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "generation.workers.dramatiq_worker", "--processes", "1", "--threads", "1", "--queues", "cpu"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_for(lambda: "Worker process is ready" in log.read_text() or process.poll() is not None, timeout=60, what="the Dramatiq worker")
    assert process.poll() is None, log.read_text()
    yield process
    os.killpg(process.pid, signal.SIGTERM)  # the worker's own process group, by its id
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    print(log.read_text()[-3000:])


def test_a_dramatiq_worker_runs_a_job_to_the_end(dramatiq_worker, make_creation, user):
    creation = make_creation(user)
    job = Job.objects.get(pk=creation.job_id)
    assert job.enqueued_at is not None  # sent through Dramatiq, after commit
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, what="the Dramatiq worker to finish")
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error_detail
    assert job.ticket and job.attempts == 1


def test_premium_jobs_go_first_with_dramatiq_too(dramatiq_worker, make_creation, user):
    os.killpg(dramatiq_worker.pid, signal.SIGSTOP)  # hold the workers while both jobs queue up
    try:
        free = make_creation(user).job
        premium = make_creation(user).job
        Job.objects.filter(pk=premium.pk).update(priority=True)
    finally:
        os.killpg(dramatiq_worker.pid, signal.SIGCONT)
    wait_for(lambda: all(j.is_finished for j in Job.objects.all()), timeout=120, what="both jobs")
    free.refresh_from_db(), premium.refresh_from_db()
    assert {free.state, premium.state} == {Job.State.SUCCEEDED}
    assert premium.started_at < free.started_at  # the newer Premium job overtook the free one


def test_a_dramatiq_worker_killed_whole_mid_job_has_its_job_finished_by_a_new_one_once(settings, media_root, tmp_path, user):
    """As tests/integration/test_recovery.py does for Celery: the sweep sees the silent worker."""
    import time

    from tests.integration.test_recovery import BACK_IN_LINE_S, LONG, Fleet, assert_made_once, queued_job, state

    require(redis_answers(), f"Redis does not answer at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    settings.GENERATION_TASK_BACKEND = "dramatiq"
    settings.DRAMATIQ_BROKER_URL = REDIS_URL
    from core.celery import app as celery_app

    fleet = Fleet(tmp_path, media_root, broker_url=celery_app.conf.broker_url)
    fleet.env |= {"GENERATION_TASK_BACKEND": "dramatiq", "DRAMATIQ_BROKER_URL": REDIS_URL}
    try:
        first = fleet.dramatiq_worker()
        fleet.sweep()
        job = queued_job(user, LONG)
        wait_for(lambda: state(job).progress >= 5, timeout=120, interval=0.05, what="the job to be under way")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        fleet.dramatiq_worker()
        wait_for(lambda: state(job).attempts == 2, timeout=BACK_IN_LINE_S + 30, interval=0.1, what="the job to run again")
        assert time.monotonic() - killed_at <= BACK_IN_LINE_S + 10
        wait_for(lambda: state(job).is_finished, timeout=120, what="the job to finish")
        assert_made_once(job, attempts=2)
    finally:
        fleet.stop()
