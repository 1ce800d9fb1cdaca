"""The memorial portrait: from one everyday photo, head and shoulders on a studio backdrop, the
eyes level and on the upper third, the face as it was; several candidates; as a job, from the
upload form and from the command line.

Faces in the portraits are found by OpenCV's own cascades, called here directly, so that these
tests do not take the engine's word for where the face is."""
import io
import math

import cv2
import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from generation.engines import EngineError, InvalidSettings, get_engine
from generation.engines.memorial_portrait import MemorialPortraitSettings, memorial_portraits
from tests.conftest import CAT_PHOTO, PERSON_PHOTO, run_job
from tests.generation.test_commands import run_manage

FACES = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
EYES = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")
HEIGHT = 640  # small enough to be quick, large enough for the cascades


def photo(path=PERSON_PHOTO) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def portraits(rgb=None, **knobs) -> list[np.ndarray]:
    return memorial_portraits(photo() if rgb is None else rgb, MemorialPortraitSettings(**{"height": HEIGHT, "count": 1, **knobs}))


@pytest.fixture(scope="module")
def four():
    """The portrait fixture's four candidates, the grey backdrop first."""
    return portraits(count=4)


def the_face(rgb: np.ndarray) -> tuple[tuple[int, int, int, int], list[tuple[float, float]]]:
    """The one face OpenCV's cascade finds in a portrait, (x, y, w, h), and its eyes' centres."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = FACES.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(rgb.shape[1] // 8,) * 2)
    assert len(faces) == 1, faces
    x, y, w, h = (int(v) for v in faces[0])
    eyes = EYES.detectMultiScale(gray[y:y + h * 6 // 10, x:x + w], scaleFactor=1.05, minNeighbors=4, minSize=(w // 10,) * 2, maxSize=(w // 2,) * 2)
    largest_first = sorted(eyes.tolist() if len(eyes) else [], key=lambda eye: -eye[2] * eye[3])
    left = [(x + ex + ew / 2, y + ey + eh / 2) for ex, ey, ew, eh in largest_first if ex + ew / 2 < w / 2]
    right = [(x + ex + ew / 2, y + ey + eh / 2) for ex, ey, ew, eh in largest_first if ex + ew / 2 >= w / 2]
    return (x, y, w, h), [side[0] for side in (left, right) if side]


def corners(rgb: np.ndarray) -> list[np.ndarray]:
    """The mean colour near each top corner, away from the person."""
    height, width = rgb.shape[:2]
    band_x, band_y = slice(round(0.02 * width), round(0.08 * width)), slice(round(0.02 * height), round(0.07 * height))
    right = slice(width - band_x.stop, width - band_x.start)
    return [rgb[band_y, band_x].reshape(-1, 3).mean(axis=0), rgb[band_y, right].reshape(-1, 3).mean(axis=0)]


@pytest.mark.parametrize(("shape", "size"), [("4:5", (480, 600)), ("3:4", (450, 600))])
def test_a_portrait_has_the_shape_and_height_asked(shape, size):
    (portrait,) = portraits(shape=shape, height=600)
    assert (portrait.shape[1], portrait.shape[0]) == size


def test_in_every_candidate_the_face_is_centred_head_and_shoulders_with_the_eyes_on_the_upper_third(four):
    for portrait in four:
        height, width = portrait.shape[:2]
        (x, _y, w, _h), eyes = the_face(portrait)
        assert abs((x + w / 2) / width - 0.5) < 0.03
        assert 0.36 < w / width < 0.47  # head and shoulders, not a passport photo nor a bust
        assert len(eyes) == 2
        assert abs(np.mean([ey for _ex, ey in eyes]) / height - 1 / 3) < 0.03


def test_the_candidates_are_the_backdrop_asked_then_the_others(four):
    assert len(four) == 4
    grey, blue, brown, white = (np.mean(corners(portrait), axis=0) for portrait in four)
    assert max(grey) - min(grey) < 8 and 60 < grey[0] < 200
    assert blue[2] > blue[0] + 30 and blue[2] > blue[1] + 10
    assert brown[0] > brown[1] > brown[2] and brown[0] - brown[2] > 30
    assert min(white) > 200
    for one in range(4):  # four different portraits, not one four times
        for other in range(one + 1, 4):
            assert np.abs(four[one].astype(int) - four[other].astype(int)).mean() > 10
    (first_blue,) = portraits(backdrop="blue")
    assert np.array_equal(first_blue, four[1])  # the backdrop asked for comes first
    assert len(portraits(count=2)) == 2


def test_the_face_keeps_its_own_colours(four):
    """The middle of the face is the photo's, restored, not painted over or recoloured."""
    source = photo()
    (sx, sy, sw, sh), _eyes = the_face(source)
    (x, y, w, h), _eyes = the_face(four[0])

    def cheeks_and_nose(rgb, x, y, w, h):
        return rgb[y + h * 45 // 100:y + h * 65 // 100, x + w * 3 // 10:x + w * 7 // 10].reshape(-1, 3).mean(axis=0)

    assert np.abs(cheeks_and_nose(source, sx, sy, sw, sh) - cheeks_and_nose(four[0], x, y, w, h)).max() < 12


def test_black_and_white_has_no_colour_and_sepia_is_warm():
    (bw,) = portraits(tone="bw")
    assert np.array_equal(bw[..., 0], bw[..., 1]) and np.array_equal(bw[..., 1], bw[..., 2])
    (sepia,) = portraits(tone="sepia", backdrop="blue")  # even a blue backdrop turns warm
    red, green, blue = sepia.reshape(-1, 3).astype(float).mean(axis=0)
    assert red > green > blue and red - blue > 25
    hue = cv2.cvtColor(sepia, cv2.COLOR_RGB2HSV)[..., 0]
    assert np.median(hue) < 25  # orange-brown, in OpenCV's 0–180 hue


def test_the_ribbon_darkens_the_top_corners_and_nothing_else(four):
    (ribboned,) = portraits(ribbon=True)
    plain = four[0]
    height, width = plain.shape[:2]
    corner = round(0.2 * width)

    def luminance(rgb):
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(float)

    for columns in (slice(0, corner), slice(width - corner, width)):
        before, after = luminance(plain[:corner, columns]), luminance(ribboned[:corner, columns])
        assert after.mean() < 0.75 * before.mean()
        assert (after < 50).mean() > 0.1  # a black ribbon, not a shadow
        # Drawn as a polygon with soft (anti-aliased) edges: some pixels between black and backdrop.
        assert ((after > 60) & (after < before - 20)).any()
    below = round(0.25 * width)
    assert np.array_equal(ribboned[below:], plain[below:])


def test_the_frame_is_a_thin_dark_line_inside_the_border(four):
    (framed,) = portraits(frame=True)
    plain = four[0]
    height, width = plain.shape[:2]
    row = height // 8
    darker = np.nonzero(framed[row, : width // 4].mean(axis=1) < plain[row, : width // 4].mean(axis=1) - 40)[0]
    assert 0 < darker.min() and darker.max() - darker.min() <= max(3, round(0.006 * width))  # a line, in from the edge
    assert np.array_equal(framed[height // 4: 3 * height // 4, width // 8: 7 * width // 8], plain[height // 4: 3 * height // 4, width // 8: 7 * width // 8])


def test_a_tilted_photo_comes_back_level():
    tilted = np.asarray(Image.open(PERSON_PHOTO).convert("RGB").rotate(10, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)))
    (portrait,) = portraits(tilted)
    _box, eyes = the_face(portrait)
    (lx, ly), (rx, ry) = eyes
    assert abs(math.degrees(math.atan2(ry - ly, rx - lx))) < 3


def test_the_same_photo_and_knobs_make_the_same_portrait(four):
    assert np.array_equal(portraits()[0], four[0])


def test_a_photo_without_a_person_s_face_is_refused_with_a_reason_for_the_customer():
    with pytest.raises(EngineError) as refused:
        portraits(photo(CAT_PHOTO))
    assert str(refused.value) == "We could not find a face in this photo. Choose a photo where the face is clear and looks towards the camera."


@pytest.mark.parametrize(("knobs", "field"), [
    ({"shape": "1:1"}, "shape"), ({"backdrop": "pink"}, "backdrop"), ({"tone": "neon"}, "tone"), ({"count": 5}, "count"),
    ({"height": 400}, "height"), ({"height": 3200}, "height"),
])
def test_knobs_out_of_range_are_refused_at_their_field(knobs, field):
    with pytest.raises(InvalidSettings) as refused:
        get_engine("memorial-portrait").settings(knobs)
    assert refused.value.field == field


@pytest.mark.django_db
def test_a_portrait_is_made_as_a_job_from_the_upload_form(owner_client):
    page = owner_client.get(reverse("studio:creation-new"))
    for knob in ("shape", "frame"):  # offered for this engine alone
        assert page.context["form"].knob_engines[knob] == "memorial-portrait"
    for knob in ("backdrop", "tone", "ribbon"):  # and for its GPU twin
        assert page.context["form"].knob_engines[knob] == "memorial-portrait memorial-portrait-sdxl"
    # How many pictures: the portraits and the pastime pictures.
    assert page.context["form"].knob_engines["count"] == "memorial-portrait memorial-portrait-sdxl pastime-images"
    for knob in ("shape", "backdrop", "tone", "count", "ribbon", "frame"):
        assert f'name="{knob}"' in page.content.decode()
    buffer = io.BytesIO(PERSON_PHOTO.read_bytes())
    buffer.name = "grandma.jpg"
    response = owner_client.post(reverse("studio:creation-new"), {
        "photo": buffer, "engine": "memorial-portrait", "aspect_ratio": "16:9", "title": "Grandma",
        "shape": "3:4", "backdrop": "white", "tone": "colour", "count": "2", "ribbon": "on",
    })
    assert response.status_code == 302, response.context["form"].errors
    from studio.models import Creation

    creation = Creation.objects.get()
    job = run_job(creation.job_id)
    assert job.state == "succeeded", job.error_detail
    assert "<dd>3:4</dd>" in owner_client.get(creation.get_absolute_url()).content.decode()  # the portrait's shape, not the form's frame
    outputs = list(job.outputs.order_by("position"))
    assert [(o.kind, o.width, o.height, o.extension) for o in outputs] == [
        ("image", 1125, 1500, "png"), ("image", 1125, 1500, "png"), ("poster", 1125, 1500, "jpg"),
    ]
    decoded = []
    for output in outputs:
        with output.file.open("rb") as handle, Image.open(handle) as image:
            assert image.format == {"png": "PNG", "jpg": "JPEG"}[output.extension]
            decoded.append(np.asarray(image.convert("RGB")).astype(int))
    first, second, poster = decoded
    assert first[375:450, 20:90].min() > 200  # white, as asked (beside the head: the ribbon is in the corners)
    assert np.abs(poster - first).mean() < 3  # the poster is the first candidate
    assert np.abs(second - first).mean() > 10
    assert (cv2.cvtColor(first[:300, -300:].astype(np.uint8), cv2.COLOR_RGB2GRAY) < 50).mean() > 0.05  # the ribbon


def test_the_portrait_command_writes_each_candidate_and_refuses_bad_input_in_one_line(tmp_path):
    out = tmp_path / "grandma.png"
    result = run_manage("portrait", str(PERSON_PHOTO), "-o", str(out), "--count", "2", "--height", "600", "--backdrop", "blue")
    assert result.returncode == 0, result.stderr
    assert not out.exists()
    for number in (1, 2):
        with Image.open(tmp_path / f"grandma-{number}.png") as written:
            assert (written.format, written.size) == ("PNG", (480, 600))
    jpeg = tmp_path / "grandma.jpg"
    result = run_manage("portrait", str(PERSON_PHOTO), "-o", str(jpeg), "--count", "1", "--height", "512", "--shape", "3:4", "--tone", "sepia", "--ribbon", "--frame")
    assert result.returncode == 0, result.stderr
    with Image.open(jpeg) as written:
        assert (written.format, written.size) == ("JPEG", (384, 512))
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_text("not a photo")
    for args, reason in [
        ((str(CAT_PHOTO), "-o", str(out)), "CommandError: We could not find a face in this photo. Choose a photo where the face is clear and looks towards the camera."),
        ((str(not_a_photo), "-o", str(out)), "CommandError: This file isn't a photo we can read. Please upload JPEG, PNG, WebP or HEIC."),
        ((str(PERSON_PHOTO), "-o", str(out), "--count", "9"), "CommandError: Candidates must be between 1 and 4."),
        ((str(PERSON_PHOTO), "-o", str(out), "--backdrop", "pink"), "CommandError: Backdrop must be one of grey, blue, brown, white."),
        ((str(PERSON_PHOTO), "-o", str(tmp_path / "x.gif")), "CommandError: OUT must end in .png, .jpg or .jpeg."),
        ((str(PERSON_PHOTO), "-o", str(tmp_path / "nowhere" / "x.png")), f"CommandError: No such folder: {tmp_path / 'nowhere'}"),
        ((str(PERSON_PHOTO), "-o", str(out), "--engine", "living-photo"), "CommandError: Engine living-photo makes videos; use `manage.py animate`."),
    ]:
        result = run_manage("portrait", *args)
        assert result.returncode == 1 and result.stderr.strip().splitlines() == [reason], result.stderr


@pytest.mark.django_db
def test_a_plan_s_height_limit_is_a_video_s_and_a_free_portrait_is_made_for_print():
    from generation.limits import JobLimits
    from generation.services import job_settings

    free = JobLimits()
    assert job_settings(engine="memorial-portrait", params={}, limits=free).size == (1200, 1500)
    with pytest.raises(InvalidSettings):
        job_settings(engine="living-photo", params={"height": 1080}, limits=free)
