"""Uploading a photo, watching it, sharing it."""
import html
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import reverse

from generation.models import Job
from studio.models import Creation
from tests.conftest import image_bytes

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name="photo.jpg", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("studio:creation-new"), {"photo": file, "aspect_ratio": "16:9", "engine": "living-photo", **fields})


def stored_files():
    def walk(folder):
        dirs, files = default_storage.listdir(folder)
        return [f"{folder}/{f}".lstrip("/") for f in files] + [p for d in dirs for p in walk(f"{folder}/{d}".lstrip("/"))]

    return [name for name in walk("") if not name.startswith(".readyz")] if default_storage.exists("") else []


@pytest.mark.parametrize("title", ["Nabi\nCoco", "Nabi\tCoco", "Nabi\x1b[31m", "Nabi\u2028Coco"])
def test_a_title_with_a_line_break_or_control_character_is_refused_and_nothing_is_stored(owner_client, photo_bytes, title):
    response = upload(owner_client, photo_bytes, title=title)
    assert response.status_code == 400
    assert "Write it on one line, without line breaks, tabs or other control characters." in html.unescape(response.content.decode())
    assert not Creation.objects.exists() and stored_files() == []


def test_a_title_with_emoji_joined_by_zero_width_joiners_is_fine(owner_client, photo_bytes):
    assert upload(owner_client, photo_bytes, title="Nabi 🐕\u200d🦺").status_code == 302
    assert Creation.objects.get().title == "Nabi 🐕\u200d🦺"


def test_the_service_and_the_model_refuse_a_title_on_two_lines_too(user):
    from generation.photos import photo_normalize
    from studio.services import creation_create
    from tests.conftest import CAT_PHOTO

    with CAT_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    with pytest.raises(ValidationError):
        creation_create(owner=user, photos=[photo], title="Nabi\nCoco", aspect_ratio="1:1", engine="living-photo")
    assert not Creation.objects.exists() and stored_files() == []
    with pytest.raises(ValidationError):
        Creation._meta.get_field("title").clean("Nabi\nCoco", None)


def test_the_upload_page_asks_for_a_photo_and_a_frame_shape(owner_client):
    page = owner_client.get(reverse("studio:creation-new")).content.decode()
    assert 'type="file"' in page and "16:9" in page and "9:16" in page


def test_an_upload_creates_a_creation_and_queues_its_job(owner_client, user, photo_bytes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(owner_client, photo_bytes, title="Chelsea")
    creation = Creation.objects.get()
    assert response.status_code == 302 and response.url == creation.get_absolute_url()
    assert creation.owner == user and creation.title == "Chelsea" and creation.aspect_ratio == "16:9"
    assert creation.job.state == Job.State.QUEUED and creation.job.params["aspect"] == "16:9"
    assert len(callbacks) == 1  # the job is sent to the broker only after the commit
    assert default_storage.exists(creation.photo.name)


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"just some text", "notes.jpg", "isn't a photo we can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "logo.svg", "SVG drawings"),
        (b"%PDF-1.4\n%%EOF", "scan.pdf", "PDF documents"),
        (image_bytes("JPEG", size=(1600, 1200))[:5000], "cut.jpg", "cut off or damaged"),
    ],
    ids=["not-an-image", "svg", "pdf", "truncated"],
)
def test_a_bad_upload_is_refused_on_the_form_and_nothing_is_kept(owner_client, data, name, message):
    response = upload(owner_client, data, name=name)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Creation.objects.exists() and not Job.objects.exists()
    assert stored_files() == []


class CountingStream:
    """A request body that counts the bytes the site reads from it."""

    def __init__(self, body: bytes):
        self.payload, self.consumed = FakePayload(body), 0

    def read(self, size=-1, /):
        data = self.payload.read(size)
        self.consumed += len(data)
        return data

    def readline(self, size=-1, /):
        data = self.payload.readline(size)
        self.consumed += len(data)
        return data


def test_an_upload_over_the_limit_is_refused_without_reading_the_rest_of_it(owner_client, settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    photo = io.BytesIO(b"\xff\xd8" + b"\0" * (8 * 1024 * 1024))
    photo.name = "huge.jpg"
    body = encode_multipart(BOUNDARY, {"photo": photo, "title": "Nabi", "aspect_ratio": "16:9", "engine": "living-photo"})
    stream = CountingStream(body)
    response = owner_client.generic("POST", reverse("studio:creation-new"), body, content_type=MULTIPART_CONTENT, **{"wsgi.input": stream})
    # The site stopped at the limit (plus one chunk of the parser), not at the end of 8 MB.
    assert stream.consumed < 1024 * 1024 + 256 * 1024 < len(body)
    assert response.status_code == 302 and response.url == reverse("studio:creation-new")
    assert "The photo is larger than 1 MB. Please upload a smaller one." in owner_client.get(response.url).content.decode()
    assert not Creation.objects.exists() and stored_files() == []


def test_an_upload_over_the_limit_with_its_csrf_token_first_gets_the_message_as_a_browser_would(user, settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get(reverse("studio:creation-new"))
    photo = io.BytesIO(b"\xff\xd8" + b"\0" * (4 * 1024 * 1024))
    photo.name = "huge.jpg"
    form = {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value, "photo": photo, "aspect_ratio": "16:9", "engine": "living-photo"}
    response = browser.post(reverse("studio:creation-new"), form, follow=True)
    assert response.redirect_chain == [(reverse("studio:creation-new"), 302)]  # stopped by the handler, after the CSRF check
    assert "The photo is larger than 1 MB." in response.content.decode() and not Creation.objects.exists()


def test_an_upload_of_the_default_limit_says_25_mb(owner_client):
    response = upload(owner_client, b"\xff\xd8" + b"\0" * (25 * 1024 * 1024 + 1), title="Nabi")
    assert "larger than 25 MB" in owner_client.get(response.url).content.decode()
    assert not Creation.objects.exists()


def test_the_upload_needs_a_login(client):
    response = client.get(reverse("studio:creation-new"))
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_the_gallery_lists_only_my_creations(owner_client, make_creation, user, other_user):
    mine = make_creation(user, title="Mine")
    make_creation(other_user, title="Theirs")
    page = owner_client.get(reverse("studio:gallery")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert mine.get_absolute_url() in page


def test_the_status_shows_queue_position_then_percent_then_the_player(owner_client, make_creation, user):
    creation = make_creation(user)
    status_url = reverse("studio:creation-status", args=[creation.id])
    queued = owner_client.get(status_url).content.decode()
    assert "next in line" in queued and 'hx-trigger="every 1s"' in queued

    Job.objects.filter(pk=creation.job_id).update(state="running", progress=42)
    running = owner_client.get(status_url).content.decode()
    assert "42%" in running and 'hx-trigger="every 1s"' in running

    from tests.conftest import run_job

    Job.objects.filter(pk=creation.job_id).update(state="queued", progress=0)
    run_job(creation.job_id)
    done = owner_client.get(status_url).content.decode()
    assert "<video" in done and "Download MP4" in done and "Download GIF" in done
    assert "hx-trigger" not in done  # polling stops once the job has finished


def test_the_place_in_line_is_the_order_workers_take_jobs_premium_first(owner_client, make_creation, user, other_user):
    older_free, newer_free, premium = make_creation(other_user), make_creation(other_user), make_creation(user)
    Job.objects.filter(pk=premium.job_id).update(priority=True)
    Job.objects.filter(pk=older_free.job_id).update(engine="svd-xt")  # another engine on another queue: not ahead
    from generation.selectors import queue_position

    assert queue_position(job=Job.objects.get(pk=premium.job_id)) == 1
    assert queue_position(job=Job.objects.get(pk=newer_free.job_id)) == 2
    page = owner_client.get(reverse("studio:creation-status", args=[premium.id])).content.decode()
    assert "next in line" in page  # though two free videos were uploaded before it


def test_the_form_shows_each_knob_for_the_engines_that_take_it_only(owner_client):
    import re

    page = owner_client.get(reverse("studio:creation-new")).content.decode()
    engines_of = {field: set(names.split()) for names, field in re.findall(r'data-engines="([^"]*)"[^>]*>\s*<label for="id_(\w+)"', page)}
    assert engines_of["seconds"] == {"living-photo"}  # the video models' length is their frame count
    assert engines_of["prompt"] == {"cogvideox-i2v"}
    assert engines_of["motion"] == {"living-photo", "svd-xt"}
    assert engines_of["height"] == {"living-photo", "svd-xt", "cogvideox-i2v"}


@pytest.mark.parametrize("engine, sent, not_sent", [
    ("living-photo", {"aspect", "height", "seconds", "fps", "motion", "loop"}, {"prompt"}),
    ("svd-xt", {"aspect", "height", "fps", "motion", "loop"}, {"seconds", "prompt"}),
    ("cogvideox-i2v", {"aspect", "height", "fps", "loop", "prompt"}, {"seconds", "motion"}),
])
def test_the_form_sends_the_knobs_the_chosen_engine_takes_and_no_others(engine, sent, not_sent, photo_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.limits import JobLimits
    from studio.forms import CreationForm

    data = {"engine": engine, "aspect_ratio": "1:1", "height": 720, "motion": 90, "seconds": 9, "fps": 24, "loop": "on", "prompt": "A cat blinks."}
    form = CreationForm(data, {"photo": SimpleUploadedFile("cat.jpg", photo_bytes)}, limits=JobLimits(max_height=1080, gpu_engines=True))
    assert form.is_valid(), form.errors
    assert set(form.params()) == sent and not set(form.params()) & not_sent


def test_a_failed_job_shows_its_human_reason(owner_client, make_creation, user):
    from generation.services import job_fail

    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason="The photo is too dark to find your pet.")
    page = owner_client.get(creation.get_absolute_url()).content.decode()
    assert "Failed" in page and "too dark to find your pet" in page


def test_downloads_are_attachments_with_a_friendly_name(owner_client, finished_creation):
    url = reverse("studio:creation-media", args=[finished_creation.id, "video"])
    response = owner_client.get(url + "?download=1")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"] == 'attachment; filename="chelsea.mp4"'
    gif = owner_client.get(reverse("studio:creation-media", args=[finished_creation.id, "gif"]) + "?download=1")
    assert gif["Content-Type"] == "image/gif" and b"".join(gif.streaming_content).startswith(b"GIF89a")


def test_the_video_is_served_in_byte_ranges_for_seeking(owner_client, finished_creation):
    url = reverse("studio:creation-media", args=[finished_creation.id, "video"])
    whole = b"".join(owner_client.get(url).streaming_content)
    part = owner_client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[100:200]
    tail = owner_client.get(url, HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == whole[-50:]
    beyond = owner_client.get(url, HTTP_RANGE=f"bytes={len(whole) + 10}-")
    assert beyond.status_code == 416


def test_sharing_gives_a_public_link_that_stops_working_when_switched_off(owner_client, finished_creation):
    share_url = reverse("studio:creation-share", args=[finished_creation.id])
    owner_client.post(share_url, {"shared": "on"})
    finished_creation.refresh_from_db()
    link = finished_creation.get_share_url()
    assert finished_creation.is_shared and len(finished_creation.share_token) >= 32

    anonymous = Client()
    public = anonymous.get(link)
    assert public.status_code == 200 and "<video" in public.content.decode()
    video = anonymous.get(reverse("studio:share-media", args=[finished_creation.share_token, "video"]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"

    owner_client.post(share_url, {"shared": "off"})
    assert anonymous.get(link).status_code == 404
    assert anonymous.get(reverse("studio:share-media", args=[finished_creation.share_token, "video"])).status_code == 404

    owner_client.post(share_url, {"shared": "on"})  # the same link comes back
    assert anonymous.get(link).status_code == 200


def test_the_share_page_never_serves_the_original_photo(owner_client, finished_creation):
    owner_client.post(reverse("studio:creation-share", args=[finished_creation.id]), {"shared": "on"})
    finished_creation.refresh_from_db()
    response = Client().get(reverse("studio:share-media", args=[finished_creation.share_token, "photo"]))
    assert response.status_code == 404


def test_the_chosen_knobs_reach_the_job(owner_client, photo_bytes):
    response = upload(owner_client, photo_bytes, aspect_ratio="9:16", height="480", motion="200", seconds="6", fps="30")
    assert response.status_code == 302
    params = Job.objects.get().params
    assert {key: params[key] for key in ("aspect", "height", "motion", "seconds", "fps", "loop")} == {
        "aspect": "9:16", "height": 480, "motion": 200, "seconds": 6.0, "fps": 30, "loop": False,
    }


@pytest.mark.parametrize(
    "knobs, field, message",
    [
        ({"height": "1080"}, "height", "Your plan makes videos up to 720p"),
        ({"seconds": "20"}, "seconds", "less than or equal to 10"),
        ({"motion": "300"}, "motion", "less than or equal to 255"),
        ({"fps": "60"}, "fps", "Select a valid choice"),
    ],
)
def test_knobs_out_of_range_are_refused_on_the_form_and_nothing_is_kept(owner_client, photo_bytes, knobs, field, message):
    response = upload(owner_client, photo_bytes, **knobs)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert field in response.context["form"].errors
    assert not Creation.objects.exists() and stored_files() == []


def test_gpu_engines_are_shown_unavailable_with_the_reason_and_refused(owner_client, user, photo_bytes, settings, tmp_path, make_premium):
    make_premium(user)
    settings.GENERATION_MODELS_DIR = tmp_path  # no weights, and no worker has said it can run them
    page = html.unescape(owner_client.get(reverse("studio:creation-new")).content.decode())
    assert 'value="svd-xt" disabled' in page
    assert f"Stable Video Diffusion XT — unavailable: no weights in {tmp_path / 'svd-xt'}" in page
    response = upload(owner_client, photo_bytes, engine="svd-xt")
    assert response.status_code == 400
    assert "engine" in response.context["form"].errors
    assert not Creation.objects.exists()


def test_a_failed_video_can_be_made_again_by_its_owner(owner_client, make_creation, user, other_user):
    from generation.services import job_fail
    from tests.conftest import run_job

    creation = make_creation(user)
    failed = creation.job
    job_fail(job_id=failed.pk, reason="The worker ran out of memory.")
    assert "Try again" in owner_client.get(creation.get_absolute_url()).content.decode()

    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.post(reverse("studio:creation-retry", args=[creation.id])).status_code == 404

    owner_client.post(reverse("studio:creation-retry", args=[creation.id]))
    creation.refresh_from_db()
    assert creation.job_id != failed.pk and creation.job.state == Job.State.QUEUED
    assert (creation.job.engine, creation.job.params, creation.job.inputs.get().file.name) == (failed.engine, failed.params, failed.inputs.get().file.name)
    assert run_job(creation.job_id).state == Job.State.SUCCEEDED

    owner_client.post(reverse("studio:creation-retry", args=[creation.id]))  # a finished video is not made twice
    creation.refresh_from_db()
    assert Job.objects.count() == 2


def test_1080p_is_shown_as_premium_only_to_free_users(owner_client):
    page = html.unescape(owner_client.get(reverse("studio:creation-new")).content.decode())
    assert '<option value="1080" disabled>1080p Full HD — unavailable: for Premium</option>' in page


def test_an_engine_given_the_wrong_number_of_photos_says_how_many_it_takes_and_nothing_is_stored(owner_client, settings):
    settings.GENERATION_EXTRA_ENGINES = ["tests.engines.CollageEngine"]  # takes three

    def photos(count):
        files = [io.BytesIO(image_bytes()) for _ in range(count)]
        for number, file in enumerate(files):
            file.name = f"photo-{number}.jpg"
        return files

    too_many = owner_client.post(reverse("studio:creation-new"), {"photo": photos(2), "aspect_ratio": "1:1", "engine": "living-photo"})
    too_few = owner_client.post(reverse("studio:creation-new"), {"photo": photos(1), "aspect_ratio": "1:1", "engine": "test-collage", "height": 480})
    assert (too_many.status_code, too_few.status_code) == (400, 400)
    assert too_many.context["form"].errors["photo"] == ["Living photo takes 1 photo."]
    assert too_few.context["form"].errors["photo"] == ["Collage (tests only) takes 3 photos."]
    assert not Job.objects.exists() and not Creation.objects.exists() and stored_files() == []
