"""When the broker is down, an upload is still kept and its job waits to be sent again."""
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.celery import app as celery_app
from generation.models import Job
from studio.models import Creation

pytestmark = pytest.mark.django_db(transaction=True)


class Broker:
    """Points the Celery app at a port where nothing listens, and back. (Celery reads the
    CELERY_BROKER_URL variable before its configuration, so both are set.)"""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.working_url = celery_app.conf.broker_url

    def _point_at(self, url):
        self.monkeypatch.setenv("CELERY_BROKER_URL", url)
        celery_app.conf.broker_url = url

    def go_down(self):
        self._point_at("redis://127.0.0.1:9/0")  # the discard port

    def come_back(self):
        self._point_at(self.working_url)


@pytest.fixture
def broker(monkeypatch):
    celery_app.control.purge()  # a message an earlier test left would be read as this test's
    broker = Broker(monkeypatch)
    yield broker
    broker.come_back()


def test_an_upload_while_the_broker_is_down_is_kept_queued_and_sent_later(client, user, photo_bytes, broker):
    broker.go_down()
    client.force_login(user)
    photo = io.BytesIO(photo_bytes)
    photo.name = "cat.jpg"
    response = client.post(reverse("studio:creation-new"), {"photo": photo, "aspect_ratio": "1:1", "engine": "living-photo"})
    creation = Creation.objects.get()
    assert response.status_code == 302
    assert Job.objects.get().state == Job.State.QUEUED and Job.objects.get().enqueued_at is None
    assert "in line" in client.get(creation.get_absolute_url()).content.decode()

    call_command("requeue_jobs")  # still down: nothing is sent, nothing lost
    assert Job.objects.get().enqueued_at is None

    broker.come_back()
    call_command("requeue_jobs")
    job = Job.objects.get()
    assert job.state == Job.State.QUEUED and job.enqueued_at is not None
    with celery_app.connection_for_read() as connection:
        message = connection.SimpleQueue("cpu", no_ack=False).get(timeout=5)
        assert message.payload[:2] == [[job.pk], {"queue": "cpu"}]
        message.ack()
