"""On S3 (moto's server over HTTP), a deleted creation leaves no object behind, and the sweeper
removes an orphan only once it is older than the grace period, never an object a row points to."""
import io

import pytest
from django.core.management import call_command

from studio.services import creation_delete
from tests.conftest import run_job
from tests.integration import test_s3_storage
from tests.integration.test_s3_storage import BUCKET

# moto's server and the storage configured for it, as the S3 tests start them.
s3_server, s3_storage = test_s3_storage.s3_server, test_s3_storage.s3_storage

pytestmark = pytest.mark.django_db(transaction=True)


def keys(s3) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def finished(make_creation, owner):
    creation = make_creation(owner)
    job = run_job(creation.job_id)
    assert job.state == "succeeded", job.error_detail
    creation.refresh_from_db()
    return creation


def test_a_deleted_creation_leaves_no_object_in_the_bucket(s3_storage, make_creation, user):
    creation = finished(make_creation, user)
    job = creation.job
    assert keys(s3_storage) == {creation.photo.name, job.video.file.name, job.animation.file.name, job.poster.file.name}

    creation_delete(creation=creation)

    assert keys(s3_storage) == set()


def test_the_sweeper_removes_an_s3_orphan_after_the_grace_period_but_never_a_referenced_object(s3_storage, make_creation, user):
    creation = finished(make_creation, user)
    referenced = keys(s3_storage)
    s3_storage.put_object(Bucket=BUCKET, Key="renders/999/video.mp4", Body=b"left behind by a crashed worker")

    call_command("sweep_storage", stdout=io.StringIO())  # the default grace: a day
    assert keys(s3_storage) == referenced | {"renders/999/video.mp4"}

    call_command("sweep_storage", "--grace-hours", "0", stdout=io.StringIO())
    assert keys(s3_storage) == referenced == {creation.photo.name, creation.job.video.file.name, creation.job.animation.file.name, creation.job.poster.file.name}
