"""`requeue_jobs` sends again only the jobs whose message is presumed lost, once per interval,
in the order the workers claim them."""
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Job
from generation.services import jobs_requeue_stale
from petmemories.celery import app as celery_app

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
    now = timezone.now()
    job = Job.objects.create(engine="living-photo", source="photo.jpg", owner=user)
    Job.objects.filter(pk=job.pk).update(
        created_at=now - timedelta(seconds=created_ago),
        enqueued_at=None if enqueued_ago is None else now - timedelta(seconds=enqueued_ago),
    )
    return job


def test_a_job_sent_recently_is_not_sent_again_however_old_it_is(user, sent_messages):
    make_job(user, created_ago=3600, enqueued_ago=30)
    assert jobs_requeue_stale(older_than_seconds=120) == 0
    assert sent_messages() == []


def test_a_lost_message_is_sent_again_once_per_interval(user, sent_messages):
    job = make_job(user, created_ago=3600, enqueued_ago=600)
    assert jobs_requeue_stale(older_than_seconds=120) == 1
    assert jobs_requeue_stale(older_than_seconds=120) == 0  # the next run, a minute later
    assert sent_messages() == [job.pk]
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - timedelta(seconds=121))
    assert jobs_requeue_stale(older_than_seconds=120) == 1


def test_a_job_never_sent_waits_the_interval_after_its_creation(user, sent_messages):
    fresh = make_job(user, created_ago=10, enqueued_ago=None)  # its own commit is about to send it
    old = make_job(user, created_ago=600, enqueued_ago=None)  # the broker was down then
    assert jobs_requeue_stale(older_than_seconds=120) == 1
    assert sent_messages() == [old.pk]
    assert Job.objects.get(pk=fresh.pk).enqueued_at is None


def test_lost_messages_are_sent_again_in_the_order_workers_claim_jobs(user, sent_messages):
    oldest = make_job(user, created_ago=900, enqueued_ago=800)
    newest = make_job(user, created_ago=300, enqueued_ago=200)
    middle = make_job(user, created_ago=600, enqueued_ago=500)
    premium = make_job(user, created_ago=150, enqueued_ago=None)
    Job.objects.filter(pk=premium.pk).update(priority=True)
    assert jobs_requeue_stale(older_than_seconds=120) == 4
    # Each send stamps enqueued_at (the filesystem broker orders messages sent within one
    # millisecond at random, so their order is read from the stamps).
    assert list(Job.objects.order_by("enqueued_at").values_list("pk", flat=True)) == [premium.pk, oldest.pk, middle.pk, newest.pk]
    assert sorted(sent_messages()) == sorted([premium.pk, oldest.pk, middle.pk, newest.pk])
