"""The memorial's living video sent to one of the owner's frames from the memorial's page."""
import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Job, JobOutput
from memorials.services import memorial_create
from studio.models import Creation, Device
from tests.factories import client_for, finished_job_make, job_make, user_make

pytestmark = pytest.mark.django_db
VIDEO = JobOutput.Kind.VIDEO


@pytest.fixture
def owner():
    return user_make("family@example.com")


def memorial_with_video(owner):
    job = finished_job_make(owner=owner, engine="living-photo", kinds=[VIDEO])
    creation = Creation.objects.create(owner=owner, title="Grandma", photo="photos/x.jpg", job=job)
    return memorial_create(owner=owner, name="Kim", video=job.outputs.get()), creation


def test_the_owner_plays_the_memorial_video_on_a_frame(owner):
    memorial, creation = memorial_with_video(owner)
    frame = Device.objects.create(owner=owner, name="Living room", paired_at=timezone.now())
    client = client_for(owner)
    page = client.get(memorial.get_absolute_url()).content.decode()
    assert "Play on Living room" in page and reverse("studio:frame-add", args=[frame.pk]) in page
    add = reverse("studio:frame-add", args=[frame.pk])
    response = client.post(add, {"creation": creation.pk, "next": memorial.get_absolute_url()}, follow=True)
    assert response.redirect_chain[-1][0] == memorial.get_absolute_url()
    assert "Living room will play it" in response.content.decode()
    assert list(frame.playlist.values_list("creation_id", flat=True)) == [creation.pk]
    # Again: nothing added twice. And a "next" elsewhere is not followed.
    response = client.post(add, {"creation": creation.pk, "next": "https://evil.example/"})
    assert response.url == frame.get_absolute_url() and frame.playlist.count() == 1


def test_no_frame_offered_without_a_video_or_a_frame(owner):
    memorial = memorial_create(owner=owner, name="Kim")
    Device.objects.create(owner=owner, name="Living room", paired_at=timezone.now())
    assert "Play on" not in client_for(owner).get(memorial.get_absolute_url()).content.decode()
    memorial, _creation = memorial_with_video(user_make("other@example.com"))
    assert "Play on" not in client_for(memorial.owner).get(memorial.get_absolute_url()).content.decode()


def test_nobody_plays_what_is_not_theirs_or_not_finished(owner):
    _memorial, creation = memorial_with_video(owner)
    stranger = user_make("stranger@example.com")
    theirs = Device.objects.create(owner=stranger, name="Theirs", paired_at=timezone.now())
    mine = Device.objects.create(owner=owner, name="Mine", paired_at=timezone.now())
    # Another's frame, or another's video: no such thing.
    assert client_for(owner).post(reverse("studio:frame-add", args=[theirs.pk]), {"creation": creation.pk}).status_code == 404
    assert client_for(stranger).post(reverse("studio:frame-add", args=[theirs.pk]), {"creation": creation.pk}).status_code == 404
    assert client_for(owner).post(reverse("studio:frame-add", args=[mine.pk]), {"creation": "not-a-uuid"}).status_code == 404
    # A video still being made is refused with the reason.
    running = Creation.objects.create(owner=owner, title="Soon", photo="photos/y.jpg", job=job_make(owner=owner, engine="living-photo", state=Job.State.RUNNING))
    response = client_for(owner).post(reverse("studio:frame-add", args=[mine.pk]), {"creation": running.pk}, follow=True)
    assert "Only your own finished videos and restored photos can play on a frame." in response.content.decode()
    assert not mine.playlist.exists() and not theirs.playlist.exists()


def test_a_family_member_plays_their_memorial_video_on_the_frame_they_send_to(owner):
    from studio.models import FrameMember

    memorial, creation = memorial_with_video(owner)
    theirs = Device.objects.create(owner=user_make("parent@example.com"), name="Parents' hall", paired_at=timezone.now())
    FrameMember.objects.create(device=theirs, email=owner.email, user=owner, token_hash="x" * 64, invited_at=timezone.now(), accepted_at=timezone.now())
    pending = Device.objects.create(owner=user_make("aunt@example.com"), name="Aunt's room", paired_at=timezone.now())
    FrameMember.objects.create(device=pending, email=owner.email, token_hash="y" * 64, invited_at=timezone.now())
    page = client_for(owner).get(memorial.get_absolute_url()).content.decode()
    assert "Play on Parents&#x27; hall" in page and "Aunt" not in page
    client_for(owner).post(reverse("studio:frame-add", args=[theirs.pk]), {"creation": creation.pk})
    assert theirs.playlist.get().added_by == owner
    assert client_for(owner).post(reverse("studio:frame-add", args=[pending.pk]), {"creation": creation.pk}).status_code == 404
