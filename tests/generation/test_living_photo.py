"""The living-photo engine: a photo that breathes, with depth, on any CPU."""
import cv2
import numpy as np
import pytest
from PIL import Image

from generation.engines import get_engine, living_photo
from generation.engines.base import RenderSettings
from generation.engines.living_photo import _camera_path, _reuse_plan, analyse, find_subject
from tests.conftest import CAT_PHOTO

CAT = Image.open(CAT_PHOTO).convert("RGB")
PERSON = Image.open(CAT_PHOTO.parent / "person.jpg").convert("RGB")
ENGINE = get_engine("living-photo")


def render(image, **knobs) -> list[np.ndarray]:
    return list(ENGINE.render(image, RenderSettings(**{"height": 240, "seconds": 2, "fps": 12, **knobs}), lambda f: None))


def mean_abs_diff(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_cat_is_found_by_its_face_a_person_by_hers_with_her_eyes_and_anything_else_by_saliency():
    cat = find_subject(np.asarray(CAT))
    assert cat.found_by == "cat-face"
    # On this close-up the cascade lands on the nose and mouth: the face is grown to the eyes.
    assert cat.face[1] < 130 < cat.face[3] and cat.face[0] < 175 and cat.face[2] > 315
    person = find_subject(np.asarray(PERSON))
    assert (person.found_by, len(person.eyes)) == ("person-face", 2)
    assert all(person.face[0] < x < person.face[2] and person.face[1] < y < person.face[3] for x, y in person.eyes)
    # No cascade knows an upside-down cat: a face-shaped salient spot, on the cat.
    upside_down = find_subject(np.asarray(CAT.rotate(180)))
    assert upside_down.found_by == "saliency"
    x0, y0, x1, y1 = upside_down.face
    assert 60 < (x0 + x1) / 2 < 400 and x1 - x0 < 0.6 * CAT.width


def test_the_person_is_segmented_from_the_background():
    scene = analyse(PERSON, RenderSettings(aspect="9:16", height=320))
    h, w = scene.alpha.shape
    assert scene.alpha[int(h * 0.35), w // 3] > 0.9  # her face
    assert scene.alpha[int(h * 0.1), int(w * 0.9)] < 0.1  # the wall behind her, top right
    assert 0.2 < scene.alpha.mean() < 0.8


@pytest.mark.parametrize("image", [CAT, PERSON], ids=["cat", "person"])
def test_the_first_frame_is_the_photo_cropped_to_the_frame(image):
    settings = RenderSettings(aspect="16:9", height=240, seconds=2, fps=12)
    first = next(iter(ENGINE.render(image, settings, lambda f: None)))
    crop = analyse(image, settings).crop
    expected = np.asarray(image.resize(settings.size, Image.Resampling.LANCZOS, box=crop))
    assert mean_abs_diff(first, expected) < 3


def test_the_subject_moves_more_than_the_background():
    """Optical flow from the first frame to the middle of the push-in, fitted with an affine
    motion on the background and on the subject (each well away from the outline): the
    subject, the near layer, grows faster than the background — that is the parallax."""
    settings = RenderSettings(aspect="9:16", height=320, seconds=2, fps=12)
    frames = list(ENGINE.render(PERSON, settings, lambda f: None))
    alpha = cv2.blur(cv2.resize(analyse(PERSON, settings).alpha, settings.size), (31, 31))
    gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in (frames[0], frames[len(frames) // 4])]
    flow = cv2.calcOpticalFlowFarneback(gray[0], gray[1], None, 0.5, 4, 21, 3, 5, 1.1, 0)
    ys, xs = np.mgrid[0 : flow.shape[0], 0 : flow.shape[1]]

    def zoom_rate(region):
        design = np.stack([xs[region], ys[region], np.ones(region.sum())], axis=1)
        motion, *_ = np.linalg.lstsq(design, flow[region], rcond=None)
        return (motion[0, 0] + motion[1, 1]) / 2

    background, subject = zoom_rate(alpha < 0.01), zoom_rate(alpha > 0.99)
    assert background > 0.005  # the camera pushes in
    assert subject > 1.8 * background


def test_more_motion_moves_more():
    still, lively = render(CAT, motion=0), render(CAT, motion=255)
    middle = len(still) // 2
    assert mean_abs_diff(lively[0], lively[middle]) > 2 * mean_abs_diff(still[0], still[middle]) > 0


def test_the_loop_seam_is_no_bigger_than_an_ordinary_step():
    frames = render(CAT, loop=True)
    steps = [mean_abs_diff(a, b) for a, b in zip(frames, frames[1:])]
    assert mean_abs_diff(frames[-1], frames[0]) <= 1.5 * float(np.median(steps))


def test_the_same_photo_knobs_and_seed_give_the_same_frames():
    assert all(np.array_equal(a, b) for a, b in zip(render(PERSON, seed=3), render(PERSON, seed=3), strict=True))


def test_the_motion_starts_from_rest_and_never_jumps():
    frames = render(CAT, height=160, seconds=4, fps=24)
    steps = [mean_abs_diff(a, b) for a, b in zip(frames, frames[1:])]
    assert steps[0] < max(steps) / 2
    assert all(abs(b - a) < max(steps) / 3 for a, b in zip(steps, steps[1:]))


def test_without_loop_the_move_ends_away_from_the_start():
    frames = render(CAT, loop=False)
    assert mean_abs_diff(frames[-1], frames[0]) > 3


def test_a_loop_shows_again_the_frames_it_repeats_exactly_as_if_rendered_anew(monkeypatch):
    reused = render(CAT, loop=True, seconds=3)
    monkeypatch.setattr(living_photo, "REUSE_BYTES", 0)
    rendered = render(CAT, loop=True, seconds=3)
    assert len(reused) == len(rendered) == 36
    assert all(np.array_equal(a, b) for a, b in zip(reused, rendered, strict=True))
    # Out and back: the second half is the first in reverse.
    assert all(np.array_equal(reused[i], reused[36 - i]) for i in range(1, 18))


def test_frames_are_reused_only_where_the_camera_repeats_and_memory_allows():
    settings = RenderSettings(height=240, seconds=2, fps=12)
    views = _camera_path(analyse(CAT, settings), settings)
    plan = _reuse_plan(views, frame_bytes=1)
    assert [i for i, source in enumerate(plan) if source >= 0] == list(range(13, 24))
    assert all(plan[i] == 24 - i for i in range(13, 24))
    assert _reuse_plan(views, frame_bytes=living_photo.REUSE_BYTES // 4).count(-1) == 24 - 4
    no_loop = RenderSettings(height=240, seconds=2, fps=12, loop=False)
    assert set(_reuse_plan(_camera_path(analyse(CAT, no_loop), no_loop), frame_bytes=1)) == {-1}
