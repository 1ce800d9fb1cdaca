"""The sweep (`requeue_jobs`): every queued job has a message after one pass, however many were
lost; a running job whose worker died goes back in line (or fails, out of attempts) exactly
once; a run taken from its worker cannot finish the job."""
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.celery import app as celery_app
from generation import services
from generation.models import Job, WorkerHeartbeat
from generation.services import WORKER_LOST, jobs_sweep
from shop.models import CreditEntry, CreditReservation
from tests.factories import job_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_messages():
    """The job ids of the messages sent to the cpu queue during the test, in queue order."""
    def read() -> list[int]:
        ids = []
        with celery_app.connection_for_read() as connection:
            queue = connection.SimpleQueue("cpu", no_ack=True)
            while True:
                try:
                    ids.append(queue.get(timeout=0.5).payload[0][0])
                except queue.Empty:
                    return ids

    read()  # whatever earlier tests left behind
    yield read
    read()


def make_job(user, *, created_ago: int, enqueued_ago: int | None) -> Job:
    """A queued job whose message, if it was ever sent, is gone (nothing is sent here)."""
    now = timezone.now()
    job = job_make(owner=user)
    Job.objects.filter(pk=job.pk).update(
        created_at=now - timedelta(seconds=created_ago),
        enqueued_at=None if enqueued_ago is None else now - timedelta(seconds=enqueued_ago),
    )
    return job


def test_a_job_whose_message_waits_is_not_sent_again_however_old_it_is(user, sent_messages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(engine="living-photo", inputs=["photo.jpg"], params={}, owner=user)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1), enqueued_at=timezone.now() - timedelta(hours=1))
    assert jobs_sweep().sent == 0
    assert sent_messages() == [job.pk]


def test_eight_lost_messages_are_all_sent_again_in_one_sweep_and_only_once(user, sent_messages):
    jobs = [make_job(user, created_ago=300 - i, enqueued_ago=200) for i in range(8)]
    assert jobs_sweep().sent == 8
    assert jobs_sweep().sent == 0  # the next sweep finds a message waiting for each
    assert sorted(sent_messages()) == sorted(job.pk for job in jobs)
    assert jobs_sweep().sent == 8  # taken by something that then lost them: sent again


def test_a_message_taken_meanwhile_does_not_leave_a_job_without_one(user, sent_messages):
    """The old sweep sent a message per stale job, skipping those no longer queued; a worker that
    claimed one with an earlier message left a later job without any."""
    first, second = make_job(user, created_ago=600, enqueued_ago=500), make_job(user, created_ago=500, enqueued_ago=400)
    services.job_claim(queue="cpu", ticket="an-older-message")  # takes `first`
    assert jobs_sweep().sent == 1
    assert sent_messages() == [second.pk]
    assert Job.objects.get(pk=first.pk).state == Job.State.RUNNING


def test_an_upload_made_while_the_broker_was_down_is_sent_by_the_first_sweep_however_young(user, sent_messages):
    unsent = make_job(user, created_ago=0, enqueued_ago=None)  # its own send failed a moment ago
    assert jobs_sweep().sent == 1
    assert sent_messages() == [unsent.pk]


def test_lost_messages_are_sent_again_in_the_order_workers_claim_jobs(user, sent_messages):
    oldest = make_job(user, created_ago=900, enqueued_ago=800)
    newest = make_job(user, created_ago=300, enqueued_ago=200)
    middle = make_job(user, created_ago=600, enqueued_ago=500)
    premium = make_job(user, created_ago=150, enqueued_ago=None)
    Job.objects.filter(pk=premium.pk).update(priority=True)
    assert jobs_sweep().sent == 4
    # Each send stamps enqueued_at (the filesystem broker orders messages sent within one
    # millisecond at random, so their order is read from the stamps).
    assert list(Job.objects.order_by("enqueued_at").values_list("pk", flat=True)) == [premium.pk, oldest.pk, middle.pk, newest.pk]
    assert sorted(sent_messages()) == sorted([premium.pk, oldest.pk, middle.pk, newest.pk])


def test_a_sweep_while_the_broker_is_down_sends_nothing_and_says_so(user, monkeypatch):
    from tests.generation.test_broker_down import Broker

    make_job(user, created_ago=600, enqueued_ago=500)
    broker = Broker(monkeypatch)
    broker.go_down()
    try:
        sweep = jobs_sweep()
    finally:
        broker.come_back()
    assert (sweep.sent, sweep.unreachable) == (0, ("cpu",))
    assert Job.objects.get().state == Job.State.QUEUED


# --- Orphans: a running job whose worker died ----------------------------------------------

def a_dead_process() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def beat(worker: str, *, ago: int) -> WorkerHeartbeat:
    at = timezone.now() - timedelta(seconds=ago)
    return WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"queues": "cpu", "started_at": at, "beat_at": at})[0]


@pytest.fixture
def running_job(make_creation, user):
    """A job a worker on another machine took 5 minutes ago, holding its owner's credit."""
    job = services.job_claim(queue="cpu", ticket="message-1")
    assert job is None
    creation = make_creation(user)
    job = services.job_claim(queue="cpu", ticket="message-1")
    assert job.pk == creation.job_id
    Job.objects.filter(pk=job.pk).update(worker="cpu@elsewhere:42", started_at=timezone.now() - timedelta(minutes=5))
    beat("cpu@elsewhere:42", ago=1)
    WorkerHeartbeat.objects.filter(worker="cpu@elsewhere:42").update(job=job)
    return Job.objects.get(pk=job.pk)


def test_a_job_whose_worker_beats_is_left_running(running_job, sent_messages):
    assert jobs_sweep().recovered == 0
    assert Job.objects.get(pk=running_job.pk).state == Job.State.RUNNING
    assert sent_messages() == []


def test_a_job_whose_worker_went_silent_goes_back_in_line_once_with_a_message(running_job, sent_messages, settings):
    beat("cpu@elsewhere:42", ago=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + 1)
    sweep = jobs_sweep()
    assert (sweep.recovered, sweep.sent) == (1, 0)  # its own message, sent when it was recovered
    job = Job.objects.get(pk=running_job.pk)
    assert (job.state, job.ticket, job.progress, job.finished_at) == (Job.State.QUEUED, "", 0, None)
    assert sent_messages() == [job.pk]
    assert jobs_sweep().recovered == 0  # exactly once
    assert CreditReservation.objects.get(job=job).state == CreditReservation.State.RESERVED  # still held for the next run

    again = services.job_run_next(queue="cpu", ticket="message-2")
    assert (again.pk, again.state, again.attempts) == (job.pk, Job.State.SUCCEEDED, 2)
    assert CreditReservation.objects.get(job=job).state == CreditReservation.State.CONSUMED
    assert not CreditEntry.objects.filter(job=job, kind=CreditEntry.Kind.RELEASE).exists()


def test_a_worker_that_never_beat_is_dead_too(running_job):
    WorkerHeartbeat.objects.all().delete()  # e.g. a worker of the previous release, killed
    assert jobs_sweep().recovered == 1
    assert Job.objects.get(pk=running_job.pk).state == Job.State.QUEUED


def test_a_job_whose_worker_died_on_every_attempt_fails_with_a_reason_and_gives_its_credit_back(running_job, settings, client, user):
    Job.objects.filter(pk=running_job.pk).update(attempts=settings.GENERATION_MAX_ATTEMPTS)
    beat("cpu@elsewhere:42", ago=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + 1)
    assert jobs_sweep().recovered == 1
    job = Job.objects.get(pk=running_job.pk)
    assert job.state == Job.State.FAILED and job.error == WORKER_LOST and "cpu@elsewhere:42" in job.error_detail
    assert CreditReservation.objects.get(job=job).state == CreditReservation.State.RELEASED
    assert CreditEntry.objects.filter(job=job, kind=CreditEntry.Kind.RELEASE).count() == 1
    assert jobs_sweep().recovered == 0
    client.force_login(user)
    from studio.models import Creation

    assert "stopped several times" in client.get(Creation.objects.get(job=job).get_absolute_url()).content.decode()


def test_a_returning_message_leaves_the_job_of_a_live_worker_alone(running_job):
    """RabbitMQ hands a message out again when its worker's connection blinks; the worker goes
    on with the job, so the message must not take it from that worker."""
    services.job_claim(queue="cpu", ticket="message-1")
    assert Job.objects.get(pk=running_job.pk).state == Job.State.RUNNING and Job.objects.get(pk=running_job.pk).attempts == 1


def test_a_returning_message_recovers_at_once_the_job_of_a_process_of_this_machine_that_is_gone(running_job):
    Job.objects.filter(pk=running_job.pk).update(worker=f"{socket.gethostname()}:{a_dead_process()}")
    again = services.job_run_next(queue="cpu", ticket="message-1")
    assert (again.pk, again.state, again.attempts) == (running_job.pk, Job.State.SUCCEEDED, 2)


def test_a_run_taken_from_its_worker_cannot_finish_the_job_and_its_files_are_dropped(running_job, settings, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    zombie = Job.objects.get(pk=running_job.pk)  # what the silent worker holds
    beat("cpu@elsewhere:42", ago=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + 1)
    jobs_sweep()
    second = services.job_run_next(queue="cpu", ticket="message-2")
    assert second.state == Job.State.SUCCEEDED and second.attempts == 2
    # The first worker was only slow, and now finishes its run.
    with django_capture_on_commit_callbacks(execute=True):
        after = services._job_run(zombie)
    assert after.attempts == 2 and after.video.file.name == second.video.file.name
    _, files = default_storage.listdir(f"renders/{second.pk}")
    assert sorted(files) == ["poster.jpg", "video.gif", "video.mp4"]  # one set of outputs
    assert CreditReservation.objects.get(job=second).state == CreditReservation.State.CONSUMED


# --- What the operator sees ----------------------------------------------------------------

def test_queues_names_dead_workers_and_orphaned_jobs(running_job, settings, capsys):
    beat("cpu@alive:7", ago=2)
    beat("cpu@elsewhere:42", ago=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + 5)
    call_command("queues", "--timeout", "0.2")
    out = capsys.readouterr().out
    assert f"DEAD worker cpu@elsewhere:42 [cpu] job {running_job.pk}" in out
    assert "worker cpu@alive:7 [cpu] idle" in out and "DEAD worker cpu@alive:7" not in out
    assert f"ORPHANED job {running_job.pk} (living-photo, attempt 1" in out


def test_support_see_dead_workers_and_orphaned_jobs_in_the_admin(running_job, settings, client, django_user_model):
    from django.contrib.auth.models import Group

    beat("cpu@elsewhere:42", ago=settings.GENERATION_WORKER_DEAD_AFTER_SECONDS + 5)
    support = django_user_model.objects.create_user(email="support@example.com", password="a-long-pass-phrase", is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)
    workers = client.get(reverse("admin:generation_workerheartbeat_changelist")).content.decode()
    assert "cpu@elsewhere:42" in workers and 'alt="False"' in workers
    orphaned = client.get(reverse("admin:generation_job_changelist") + "?orphaned=yes").content.decode()
    assert "ORPHANED: cpu@elsewhere:42 is dead" in orphaned
    beat("cpu@elsewhere:42", ago=1)
    assert "ORPHANED" not in client.get(reverse("admin:generation_job_changelist")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_sweep_process_stops_on_sigterm(tmp_path):
    """`requeue_jobs --every` is a long-running process (the `requeue` line of the Procfile)."""
    from tests.conftest import ROOT, database_url_for_tests, wait_for

    log = tmp_path / "sweep.log"
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "manage.py", "requeue_jobs", "--every", "1"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: log.read_text().count("Sent ") >= 2, timeout=60, what="two sweeps")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
