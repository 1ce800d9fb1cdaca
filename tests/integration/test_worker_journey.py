"""The whole journey with a real Celery worker process: upload → queued → running → done → download.

On a developer's machine this runs on the embedded defaults (SQLite, the filesystem broker);
in CI (`pytest --ci`) the same test runs against PostgreSQL and Redis.
"""
import io

import pytest
from django.urls import reverse

from generation import media
from generation.models import Job
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_process_turns_an_upload_into_a_video(celery_worker_process, client, user, photo_bytes):
    client.force_login(user)
    photo = io.BytesIO(photo_bytes)
    photo.name = "chelsea.jpg"
    response = client.post(reverse("studio:creation-new"), {"photo": photo, "title": "Chelsea", "aspect_ratio": "16:9", "engine": "living-photo"})
    assert response.status_code == 302
    status_url = response.url + "status/"

    seen = set()

    def finished():
        page = client.get(status_url).content.decode()
        seen.update(state for state in ("queued", "running", "succeeded", "failed") if f'data-state="{state}"' in page)
        return "succeeded" in seen or "failed" in seen

    wait_for(finished, timeout=120, interval=0.2, what="the worker to finish the job")
    job = Job.objects.get()
    assert job.state == Job.State.SUCCEEDED, job.error_detail
    assert seen & {"queued", "running"}, "the page never showed the job before it finished"
    assert job.attempts == 1 and job.worker

    mp4 = client.get(response.url + "video/?download=1")
    assert mp4.status_code == 200
    info = media.probe_video(io.BytesIO(b"".join(mp4.streaming_content)))
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 1280, 720)
    assert info.frame_count == 96 and info.duration == pytest.approx(4.0)

    from PIL import Image

    gif = Image.open(io.BytesIO(b"".join(client.get(response.url + "gif/").streaming_content)))
    assert gif.format == "GIF" and gif.size == (480, 270) and gif.n_frames == 48
