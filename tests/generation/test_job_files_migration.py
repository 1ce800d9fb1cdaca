"""Migration generation/0008 carries every existing job's photo and files over to its inputs
and outputs (and back), computing what was never stored: each file's size and checksum."""
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("generation", "0007_worker_heartbeat")]
AFTER = [("generation", "0009_job_drop_single_file_columns")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def every_app_migrated_after():
    """Going back to generation 0007 also unapplies every app's migrations that depend on a
    later one (memorials'); the tests that follow need the whole schema again, whatever happens
    here."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def save(name, data):
    return default_storage.save(name, ContentFile(data)), hashlib.sha256(data).hexdigest(), len(data)


def test_every_job_s_photo_and_files_are_carried_over_and_back():
    old = migrate(BEFORE)
    Job = old.get_model("generation", "Job")
    photo, _, _ = save("photos/2026/05/nabi.jpg", image_bytes())
    video, video_sha, video_size = save("renders/1/video.mp4", b"\x00\x00\x00 ftypisom" + b"v" * 5000)
    gif, gif_sha, gif_size = save("renders/1/video.gif", image_bytes("GIF", size=(480, 270)))
    poster, poster_sha, poster_size = save("renders/1/poster.jpg", image_bytes(size=(1280, 720)))
    made = Job.objects.create(
        engine="living-photo", source=photo, state="succeeded", video=video, gif=gif, poster=poster,
        width=1280, height=720, frame_count=96, duration=4.0, video_sha256="", video_bytes=None,
    )
    gone = Job.objects.create(
        engine="living-photo", source="photos/gone.jpg", state="succeeded", video="renders/2/video.mp4",
        width=720, height=720, frame_count=48, duration=2.0, video_sha256="f" * 64, video_bytes=1234,
    )
    waiting = Job.objects.create(engine="svd-xt", source=photo, state="queued")

    new = migrate(AFTER)
    JobInput, JobOutput = new.get_model("generation", "JobInput"), new.get_model("generation", "JobOutput")
    assert [(i.job_id, i.position, i.file.name) for i in JobInput.objects.order_by("job_id")] == [
        (made.pk, 0, photo), (gone.pk, 0, "photos/gone.jpg"), (waiting.pk, 0, photo),
    ]
    rows = [
        (o.position, o.kind, o.file.name, o.sha256, o.bytes, o.width, o.height, o.frame_count, o.duration)
        for o in JobOutput.objects.filter(job_id=made.pk).order_by("position")
    ]
    assert rows == [
        (0, "video", video, video_sha, video_size, 1280, 720, 96, 4.0),
        (1, "animation", gif, gif_sha, gif_size, 480, 270, 48, 4.0),
        (2, "poster", poster, poster_sha, poster_size, 1280, 720, None, None),
    ]
    # A job whose checksum was already known keeps it, even if its file is gone.
    (kept,) = JobOutput.objects.filter(job_id=gone.pk)
    assert (kept.kind, kept.sha256, kept.bytes, kept.width) == ("video", "f" * 64, 1234, 720)
    assert not JobOutput.objects.filter(job_id=waiting.pk).exists()

    back = migrate(BEFORE)
    restored = back.get_model("generation", "Job").objects.get(pk=made.pk)
    assert (restored.source.name, restored.video.name, restored.gif.name, restored.poster.name) == (photo, video, gif, poster)
    assert (restored.video_sha256, restored.video_bytes, restored.width, restored.frame_count) == (video_sha, video_size, 1280, 96)
