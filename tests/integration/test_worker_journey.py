"""The whole journey with a real Celery worker process: upload → queued → running → done → download.

On a developer's machine this runs on the embedded defaults (SQLite, the filesystem broker);
in CI (`pytest --ci`) the same test runs against PostgreSQL and Redis.
"""
import io
import json
import zipfile

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


def _make_job(user, **params):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generation.limits import JobLimits
    from generation.photos import photo_normalize
    from generation.services import job_create
    from tests.conftest import CAT_PHOTO

    with CAT_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    source = default_storage.save("photos/worker-test.jpg", ContentFile(photo.jpeg))
    return job_create(engine="living-photo", inputs=[source], params=params, owner=user, limits=JobLimits(max_height=1080, priority=True, watermark=False))


def _pool_children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(child) for child in handle.read().split()]


def test_a_worker_process_killed_mid_job_leaves_it_requeued_then_finished_once(celery_worker_process, user):
    import os
    import signal

    from django.core.files.storage import default_storage

    job = _make_job(user, aspect="1:1", height=1080, seconds=10, fps=30)
    wait_for(lambda: Job.objects.get(pk=job.pk).progress >= 10, timeout=120, interval=0.1, what="the job to be under way")
    (child,) = _pool_children(celery_worker_process.pid)
    os.kill(child, signal.SIGKILL)  # the process running the job dies, as on an OOM kill

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=180, what="the job to be run again")
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error_detail
    assert job.attempts == 2  # the first attempt died; the second finished
    _, files = default_storage.listdir(f"renders/{job.pk}")
    assert sorted(files) == ["poster.jpg", "video.gif", "video.mp4"]  # written once
    with job.video.file.open("rb") as handle:
        info = media.probe_video(handle)
    assert (info.width, info.height, info.frame_count) == (1080, 1080, 300)


@pytest.fixture
def one_second_for_living_photo(settings):
    """Set before the worker starts, which takes it from the environment (conftest)."""
    settings.GENERATION_TIME_LIMITS = {"living-photo": 1}


def test_a_job_over_its_time_limit_is_stopped_with_a_reason(one_second_for_living_photo, celery_worker_process, user):
    """Held to its own engine's limit, though the worker's limit is its queue's longest (restore's)."""
    from generation.services import TIMED_OUT

    job = _make_job(user, aspect="16:9", height=720, seconds=10, fps=30)
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120, what="the job to stop")
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.error == TIMED_OUT


def test_a_started_worker_says_which_engines_it_can_run(celery_worker_process):
    from generation.models import EngineReport

    wait_for(lambda: EngineReport.objects.filter(engine="living-photo").exists(), timeout=30, what="the worker's report")
    report = EngineReport.objects.get(engine="living-photo")
    assert report.ready and str(celery_worker_process.pid) not in report.worker  # the pool process, not the parent
    # It serves the cpu queue only: it reports the CPU engines, no GPU one.
    wait_for(lambda: EngineReport.objects.filter(engine="restore").exists(), timeout=30, what="the worker's report on restore")
    wait_for(lambda: EngineReport.objects.filter(engine="memorial-portrait").exists(), timeout=30, what="the worker's report on memorial-portrait")
    assert set(EngineReport.objects.values_list("engine", flat=True)) == {"living-photo", "restore", "colorize", "restore+colorize", "memorial-portrait"}


def test_a_worker_process_builds_my_data_export_and_only_i_can_download_it(celery_worker_process, client, user, other_user):
    from accounts.models import DataExport

    client.force_login(user)
    assert client.post(reverse("accounts:export-request")).status_code == 302
    wait_for(lambda: DataExport.objects.filter(user=user).exclude(state=DataExport.State.PREPARING).exists(),
             timeout=60, what="the worker to build the export")
    export = DataExport.objects.get(user=user)
    assert export.state == DataExport.State.READY
    download = reverse("accounts:export-download", args=[export.pk])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(client.get(download).streaming_content)))
    assert json.loads(archive.read("data.json"))["account"]["email"] == user.email
    client.force_login(other_user)
    assert client.get(download).status_code == 404
