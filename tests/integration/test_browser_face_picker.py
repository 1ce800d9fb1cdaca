"""In a real browser: the upload page shows the faces in the chosen photo, and the one a person
taps (or the point) is what the job brings to life."""
import io
import os

import pytest
from django.urls import reverse

from generation.models import Job
from generation.photos import photo_normalize
from studio.selectors import photo_faces
from tests.conftest import two_faces_bytes
from tests.integration.test_browser import page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_faces(tmp_path):
    path = tmp_path / "two-friends.jpg"
    path.write_bytes(two_faces_bytes())
    return path


def sign_in_and_choose(page, live_server, user, photo):  # noqa: F811
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "a-long-pass-phrase")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/studio/")
    page.goto(live_server.url + reverse("studio:creation-new"))
    page.set_input_files("input[name=photo]", str(photo))


def subject_of_the_job() -> tuple[float, float]:
    x, y = Job.objects.get().params["subject"].split(",")
    return float(x), float(y)


def test_a_person_taps_the_second_of_two_faces_and_the_job_brings_it_to_life(page, live_server, user, two_faces):  # noqa: F811
    sign_in_and_choose(page, live_server, user, two_faces)
    page.get_by_text("Who should come alive? Tap a face.").wait_for()
    faces = page.locator(".face-picker button.face")
    assert faces.count() == 2
    assert page.input_value("input[name=subject]") == ""  # nothing is chosen before a tap
    second = page.get_by_role("button", name="Face 2")
    second.click()
    assert second.get_attribute("aria-pressed") == "true" and page.get_by_role("button", name="Face 1").get_attribute("aria-pressed") == "false"
    if os.environ.get("PETMEMORIES_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["PETMEMORIES_SCREENSHOTS"], "face-picker.png"), full_page=True)

    page.get_by_role("button", name="Make my video").click()
    page.wait_for_url("**/studio/*-*/")
    box = photo_faces(photo=photo_normalize(io.BytesIO(two_faces_bytes())))["faces"][1]
    x, y = subject_of_the_job()
    assert box["x"] <= x <= box["x"] + box["w"] and box["y"] <= y <= box["y"] + box["h"]
    assert x > 0.5  # the face on the right


def test_on_a_phone_a_tap_elsewhere_and_the_keyboard_choose_too(page, live_server, user, two_faces):  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_and_choose(page, live_server, user, two_faces)
    page.get_by_role("button", name="Face 2").wait_for()
    photo = page.locator(".face-picker-photo").bounding_box()
    assert photo["width"] <= 390  # scaled to the phone's width
    # A point of the grey between the two: a quarter of the way down, in the middle.
    page.mouse.click(photo["x"] + photo["width"] * 0.5, photo["y"] + photo["height"] * 0.25)
    assert page.locator(".face-picker-marker").is_visible()
    if os.environ.get("PETMEMORIES_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["PETMEMORIES_SCREENSHOTS"], "face-picker-phone.png"), full_page=True)
    x, y = (float(value) for value in page.input_value("input[name=subject]").split(","))
    assert x == pytest.approx(0.5, abs=0.01) and y == pytest.approx(0.25, abs=0.01)

    page.get_by_role("button", name="Face 1").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("button", name="Face 1").get_attribute("aria-pressed") == "true"
    assert not page.locator(".face-picker-marker").is_visible()
    page.get_by_role("button", name="Make my video").click()
    page.wait_for_url("**/studio/*-*/")
    assert subject_of_the_job()[0] < 0.5  # the face on the left


def test_one_face_is_shown_chosen_and_a_photo_without_faces_asks_for_a_tap(page, live_server, user, tmp_path):  # noqa: F811
    from tests.conftest import PERSON_PHOTO, image_bytes

    sign_in_and_choose(page, live_server, user, PERSON_PHOTO)
    page.get_by_text("We will bring this face to life.").wait_for()
    assert page.get_by_role("button", name="Face 1").get_attribute("aria-pressed") == "true"
    assert page.input_value("input[name=subject]") == ""  # the engine finds it by itself

    plain = tmp_path / "wall.jpg"
    plain.write_bytes(image_bytes(size=(640, 480)))
    page.set_input_files("input[name=photo]", str(plain))
    page.get_by_text("Tap your pet or the person in the photo").wait_for()
    assert page.locator(".face-picker button.face").count() == 0
    page.locator(".face-picker-photo").click(position={"x": 100, "y": 100})
    assert page.input_value("input[name=subject]") != ""

    # A style that takes no subject: no picker, and no point is sent.
    page.select_option("select[name=engine]", "restore")
    assert not page.locator(".face-picker").is_visible() and page.input_value("input[name=subject]") == ""
