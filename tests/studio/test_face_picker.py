"""The upload page's face picker: the faces in a photo, as fractions of it, and the point a
person picked reaching the job."""
import html
import io

import pytest
from django.test import Client
from django.urls import reverse

from generation.models import Job
from studio.models import Creation
from tests.conftest import two_faces_bytes

pytestmark = pytest.mark.django_db

FACES_URL = "/studio/faces/"


def faces_of(client, data: bytes, name="photo.jpg"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("studio:photo-faces"), {"photo": file})


def test_the_faces_endpoint_is_where_the_page_asks():
    assert reverse("studio:photo-faces") == FACES_URL


def test_two_faces_are_found_left_to_right_as_fractions_of_the_photo(owner_client):
    response = faces_of(owner_client, two_faces_bytes())
    assert response.status_code == 200
    found = response.json()
    assert (found["width"], found["height"]) == (1280, 512)
    left, right = found["faces"]
    assert left["kind"] == right["kind"] == "person"
    # The portrait's face is at about (175, 65) to (274, 164) of its 512 × 512 pixels; the
    # mirrored one starts 768 pixels further right.
    assert left["x"] == pytest.approx(175 / 1280, abs=0.01) and left["y"] == pytest.approx(65 / 512, abs=0.02)
    assert right["x"] + right["w"] / 2 == pytest.approx((768 + 512 - 225) / 1280, abs=0.01)
    for face in (left, right):
        assert face["w"] == pytest.approx(99 / 1280, abs=0.01) and face["h"] == pytest.approx(99 / 512, abs=0.02)


def test_a_photo_is_looked_at_upright_as_it_will_be_stored(owner_client):
    from PIL import Image

    sideways = Image.open(io.BytesIO(two_faces_bytes())).rotate(90, expand=True)  # 512 × 1280
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn it 90° clockwise to view": upright again, 1280 × 512
    out = io.BytesIO()
    sideways.save(out, "JPEG", exif=exif)
    found = faces_of(owner_client, out.getvalue()).json()
    assert (found["width"], found["height"]) == (1280, 512) and len(found["faces"]) == 2


def test_nothing_is_stored(owner_client):
    from tests.studio.test_studio import stored_files

    faces_of(owner_client, two_faces_bytes())
    assert stored_files() == [] and not Creation.objects.exists() and not Job.objects.exists()


def test_a_file_that_is_not_a_photo_gets_the_forms_message(owner_client):
    response = faces_of(owner_client, b"just some text", name="notes.jpg")
    assert response.status_code == 400
    assert "This file isn't a photo we can read." in response.json()["error"]


def test_a_photo_over_the_limit_gets_the_message_in_json(owner_client, settings):
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    response = faces_of(owner_client, b"\xff\xd8" + b"\0" * (2 * 1024 * 1024))
    assert response.status_code == 400
    assert response.json() == {"error": "The photo is larger than 1 MB. Please upload a smaller one."}


def test_a_stranger_is_sent_to_sign_in(client):
    response = faces_of(client, two_faces_bytes())
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_it_takes_a_post_with_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get(FACES_URL).status_code == 405
    assert faces_of(browser, two_faces_bytes()).status_code == 403
    browser.get(reverse("studio:creation-new"))
    file = io.BytesIO(two_faces_bytes())
    file.name = "photo.jpg"
    response = browser.post(FACES_URL, {"photo": file}, headers={"X-CSRFToken": browser.cookies["csrftoken"].value})
    assert response.status_code == 200


def test_one_account_may_look_at_so_many_photos_an_hour(owner_client, settings, other_user):
    settings.PHOTO_FACES_PER_ACCOUNT_PER_HOUR = 2
    photo = two_faces_bytes()
    assert [faces_of(owner_client, photo).status_code for _ in range(3)] == [200, 200, 429]
    refused = faces_of(owner_client, photo)
    assert refused["Retry-After"] == "3600" and "try again later" in refused.json()["error"]
    someone_else = Client()
    someone_else.force_login(other_user)
    assert faces_of(someone_else, photo).status_code == 200


# --- The point reaching the job ------------------------------------------------------------

def upload(client, **fields):
    from tests.studio.test_studio import upload

    return upload(client, two_faces_bytes(), **fields)


def test_the_picked_point_reaches_the_living_photo_job(owner_client):
    assert upload(owner_client, subject="0.8203,0.2207").status_code == 302
    assert Job.objects.get().params["subject"] == "0.8203,0.2207"


def test_no_point_leaves_the_subject_to_the_engine(owner_client):
    assert upload(owner_client, subject="").status_code == 302
    assert Job.objects.get().params.get("subject", "") == ""


@pytest.mark.parametrize("subject", ["abc", "2,2", "0.5", "0.5,0.5,0.5", "-0.1,0.5"])
def test_a_malformed_point_is_refused_with_a_clear_message_and_nothing_is_kept(owner_client, subject):
    from tests.studio.test_studio import stored_files

    response = upload(owner_client, subject=subject)
    assert response.status_code == 400
    assert "subject" in response.context["form"].errors
    assert "The subject must be a point in the photo, as two fractions “x,y” between 0 and 1." in html.unescape(response.content.decode())
    assert not Creation.objects.exists() and stored_files() == []


def test_the_page_has_the_picker_for_the_engines_that_take_a_subject(owner_client):
    page = owner_client.get(reverse("studio:creation-new")).content.decode()
    assert 'name="subject"' in page and 'type="hidden"' in page
    assert 'data-faces-url="/studio/faces/"' in page
    assert 'class="face-picker" data-engines="living-photo"' in page
