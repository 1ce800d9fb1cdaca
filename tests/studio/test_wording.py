"""A job that makes photos (restore) is spoken of as a photo wherever a video job is spoken of as
a video: the creation's status, its page and public page, the "ready" email, its untitled name;
and the links that start a new creation say "New creation", whatever it will make."""
import html
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from generation.models import Job
from generation.photos import photo_normalize
from generation.services import job_cancel
from studio.services import creation_create, creation_set_shared
from tests.conftest import PERSON_PHOTO, run_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_restoration(django_capture_on_commit_callbacks):
    """A creation whose job restores a photo, queued (not yet run)."""

    def make(owner, *, title="Grandma"):
        with PERSON_PHOTO.open("rb") as handle:
            photo = photo_normalize(handle)
        return creation_create(owner=owner, photos=[photo], title=title, aspect_ratio="1:1", engine="restore")

    return make


@pytest.fixture(params=["restore", "living-photo"])
def kind(request, user, make_restoration, make_creation):
    """A creation of each kind, with the words its pages should use and must not."""
    if request.param == "restore":
        return make_restoration(user), "photo", "video"
    return make_creation(user, title="Grandma"), "video", "photo"


def text(response) -> str:
    return html.unescape(response.content.decode())


def status_of(client, creation) -> str:
    return text(client.get(reverse("studio:creation-status", args=[creation.id])))


def test_a_running_job_says_what_it_is_making(owner_client, kind):
    creation, says, never = kind
    Job.objects.filter(pk=creation.job_id).update(state="running", progress=30)
    page = status_of(owner_client, creation)
    assert f"Making your {says}" in page and f"Making your {never}" not in page


def test_a_canceled_job_says_what_was_canceled(owner_client, kind):
    creation, says, never = kind
    job_cancel(job_id=creation.job_id)
    page = status_of(owner_client, creation)
    assert f"This {says} was canceled before it was finished." in page and f"This {never} was canceled" not in page


def test_the_public_page_of_one_still_being_made_says_what_is_coming(owner_client, kind):
    creation, says, never = kind
    creation_set_shared(creation=creation, shared=True)
    page = text(Client().get(creation.get_share_url()))
    assert f"This {says} is still being made." in page and f"This {never} is still being made." not in page


def test_an_untitled_creation_is_named_after_what_it_makes_and_its_day(owner_client, kind):
    creation, says, never = kind
    creation.title = ""
    creation.save()
    name = str(creation)
    assert name.startswith(f"{says.capitalize()} of ") and not name.startswith(f"{never.capitalize()} of ")
    assert name in text(owner_client.get(reverse("studio:gallery")))


def test_a_restored_photo_is_ready_by_email_and_on_its_pages_as_a_photo(owner_client, user, make_restoration, django_capture_on_commit_callbacks):
    creation = make_restoration(user)
    with django_capture_on_commit_callbacks(execute=True):
        job = run_job(creation.job_id)
    assert job.state == "succeeded" and job.video is None, job.error_detail
    [message] = mail.outbox
    assert message.subject == 'Your PetMemories photo "Grandma" is ready'
    assert 'Your photo "Grandma" is ready.' in message.body and "video" not in message.body.lower()

    creation_set_shared(creation=creation, shared=True)
    page = text(owner_client.get(creation.get_absolute_url()))
    assert "Anyone with this link can see the photo:" in page and "Seen 0 times by others." in page
    assert "watch the video" not in page
    public = text(Client().get(creation.get_share_url()))
    assert "a photo brought back with PetMemories" in public and "a living photo made" not in public.lower()
    delete = text(owner_client.get(reverse("studio:creation-delete", args=[creation.id])))
    assert "its photo, the photos made from it and its public link" in delete and "video" not in delete.split("<main", 1)[1].lower()
    deleted = owner_client.post(reverse("studio:creation-delete", args=[creation.id]), follow=True)
    assert "“Grandma” is deleted, with its photo, the photos made from it and its public link." in text(deleted)


def test_a_finished_video_still_speaks_of_a_video(owner_client, user, make_creation, django_capture_on_commit_callbacks):
    creation = make_creation(user, title="Grandma")
    with django_capture_on_commit_callbacks(execute=True):
        run_job(creation.job_id)
    [message] = mail.outbox
    assert message.subject == 'Your PetMemories video "Grandma" is ready' and 'Your video "Grandma" is ready.' in message.body
    creation_set_shared(creation=creation, shared=True)
    page = text(owner_client.get(creation.get_absolute_url()))
    assert "Anyone with this link can watch the video:" in page and "Watched 0 times by others." in page
    assert "a living photo made with PetMemories" in text(Client().get(creation.get_share_url()))
    delete = text(owner_client.get(reverse("studio:creation-delete", args=[creation.id])))
    assert "its photo, its video, GIF and poster" in delete


@pytest.mark.parametrize("page", ["studio:gallery", "studio:creation-new", "home"])
def test_the_links_and_the_upload_page_say_new_creation(owner_client, page):
    content = text(owner_client.get(reverse(page)))
    assert "New creation" in content and "New video" not in content


def test_the_upload_button_says_what_the_chosen_style_makes(owner_client):
    button = re.search(r"<button type=\"submit\"[^>]*>([^<]*)</button>", text(owner_client.get(reverse("studio:creation-new"))))
    assert button.group(1) == "Make my video"  # living photo, the first style
    assert 'data-video-engines="living-photo svd-xt cogvideox-i2v"' in button.group(0) and 'data-photo="Make my photo"' in button.group(0)
    refused = owner_client.post(reverse("studio:creation-new"), {"engine": "restore", "aspect_ratio": "1:1"})  # no photo: shown again
    assert re.search(r"<button type=\"submit\"[^>]*>([^<]*)</button>", text(refused)).group(1) == "Make my photo"
