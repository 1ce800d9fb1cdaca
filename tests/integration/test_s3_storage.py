"""With AWS_STORAGE_BUCKET_NAME set, photos and videos live in S3 — here moto's S3 server over
HTTP — and are handed out only as signed URLs, only to those allowed to see them."""
import io
import socket
import subprocess
import sys

import boto3
import pytest
import requests
from django.test import Client
from django.urls import reverse

from generation import media
from generation.models import Job
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
BUCKET = "petmemories-test-media"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_server():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(endpoint, timeout=1).status_code < 500
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting on a busy machine
            return False

    wait_for(answers, timeout=30, what="moto's S3 server")
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_storage(s3_server, monkeypatch, settings):
    """Configure S3 the way an operator does, through the environment, for this process and
    the worker it starts."""
    from petmemories.settings.base import env, storage_from_env

    for name, value in {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_env(env)}
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_photos_and_videos_go_to_s3_and_come_back_as_signed_urls(s3_storage, celery_worker_process, client, user, photo_bytes):
    client.force_login(user)
    photo = io.BytesIO(photo_bytes)
    photo.name = "chelsea.jpg"
    response = client.post(reverse("studio:creation-new"), {"photo": photo, "aspect_ratio": "1:1", "engine": "living-photo"})
    assert response.status_code == 302
    wait_for(lambda: Job.objects.get().is_finished, timeout=120, what="the worker to finish")
    job = Job.objects.get()
    assert job.state == Job.State.SUCCEEDED, job.error_detail

    keys = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {job.video.file.name, job.animation.file.name, job.poster.file.name, job.inputs.get().file.name} <= keys
    assert not any(key.startswith(".readyz") for key in keys)

    redirect = client.get(response.url + "video/?download=1")
    assert redirect.status_code == 302
    signed = redirect["Location"]
    assert signed.startswith(s3_storage.meta.endpoint_url) and "X-Amz-Signature=" in signed and "X-Amz-Expires=600" in signed
    video = requests.get(signed, timeout=10)
    assert video.status_code == 200 and "attachment" in video.headers.get("Content-Disposition", "")
    info = media.probe_video(io.BytesIO(video.content))
    assert (info.codec, info.width, info.height, info.frame_count) == ("h264", 720, 720, 96)

    assert Client().get(response.url + "video/").status_code == 404  # no signed URL for strangers


def test_readyz_checks_the_s3_bucket_without_leaving_objects_in_it(s3_storage, client):
    for _ in range(3):  # one write, then listings
        assert client.get("/readyz").json()["checks"]["storage"]["ok"] is True
    assert "Contents" not in s3_storage.list_objects_v2(Bucket=BUCKET)
    s3_storage.delete_bucket(Bucket=BUCKET)
    report = client.get("/readyz")
    assert report.status_code == 503 and report.json()["checks"]["storage"]["ok"] is False
