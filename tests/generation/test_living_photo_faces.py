"""living-photo and faces: the face framed whole in every frame, the one a person pointed at, a
small photo restored before it is enlarged, and `manage.py animate --subject`.

Faces in the frames are found by OpenCV's own cascade, called here directly, so that these tests
do not take our faces module's word for what it found."""
import av
import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from generation.engines import get_engine
from generation.engines.base import ASPECT_RATIOS, InvalidSettings
from generation.engines.living_photo import LivingPhotoSettings, PersonMotion, Pose, _camera_path, analyse, find_subject
from tests.conftest import CAT_PHOTO

PERSON = Image.open(CAT_PHOTO.parent / "person.jpg").convert("RGB")
CAT_IMAGE = Image.open(CAT_PHOTO).convert("RGB")
ENGINE = get_engine("living-photo")
FACES = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
EYES = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")


def faces_in(frame: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The faces OpenCV's frontal-face cascade finds in ``frame``, as (x, y, w, h)."""
    found = FACES.detectMultiScale(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    return [tuple(int(v) for v in face) for face in found]


def render(image, **knobs) -> list[np.ndarray]:
    settings = LivingPhotoSettings(**{"height": 240, "seconds": 2, "fps": 12, **knobs})
    return list(ENGINE.render(image, settings, lambda fraction: None))


def two_faces() -> tuple[Image.Image, tuple[int, int], tuple[int, int]]:
    """The portrait, and beside it, far to the right, a copy of it mirrored and at 60 %: a canvas
    so wide that no frame shape holds both faces. Returns it and a point on each face."""
    canvas = Image.new("RGB", (2000, 512), (128, 128, 128))
    canvas.paste(PERSON, (0, 0))
    canvas.paste(PERSON.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((307, 307), Image.Resampling.LANCZOS), (1500, 100))
    # The portrait's face is about 99 px across, centred near (224, 114).
    return canvas, (224, 114), (1500 + round((512 - 224) * 0.6), 100 + round(114 * 0.6))


@pytest.mark.parametrize("aspect", list(ASPECT_RATIOS))
def test_the_whole_face_is_in_the_first_middle_and_last_frames_at_every_aspect_ratio(aspect):
    frames = render(PERSON, aspect=aspect, motion=255)
    for index in (0, len(frames) // 2, len(frames) - 1):
        height, width = frames[index].shape[:2]
        found = faces_in(frames[index])
        assert found, f"no face in frame {index}"
        x, y, w, h = max(found, key=lambda face: face[2] * face[3])
        # The whole face box, and so both eyes in its upper half, inside the frame.
        assert 0 < x and x + w < width and 0 < y and y + h < height, f"frame {index}: {(x, y, w, h)} in {width}×{height}"


def test_the_eyes_are_on_the_upper_third_where_the_photo_allows():
    """A square portrait made 16:9 has room above the eyes: they go on the upper third, and the
    hair and chin stay in."""
    first = render(PERSON, aspect="16:9", height=360)[0]
    x, y, w, h = max(faces_in(first), key=lambda face: face[2] * face[3])
    gray = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY)[y : y + h // 2 + h // 10, x : x + w]
    eyes = EYES.detectMultiScale(gray, scaleFactor=1.05, minNeighbors=4, minSize=(w // 10, w // 10))
    assert len(eyes) >= 2
    eye_line = y + float(np.mean([ey + eh / 2 for _ex, ey, _ew, eh in eyes]))
    assert abs(eye_line / first.shape[0] - 1 / 3) < 0.04


def sized(faces, width: float) -> list:
    """Those of ``faces`` about ``width`` pixels across in the first frame: the cascade's boxes
    vary by a tenth or so, and the camera's push-in enlarges the face by up to a quarter."""
    return [face for face in faces if 0.85 * width < face[2] < 1.4 * width]


@pytest.mark.parametrize("aspect", ["16:9", "1:1", "9:16"])
def test_the_face_pointed_at_is_in_every_frame_and_the_other_is_not(aspect):
    """The two faces differ in size (1 : 0.6), so each one found is told apart by its size; the
    cascade's odd false find (the suit's collar ring) is neither."""
    canvas, big, small = two_faces()
    for point, size, other in ((big, 1.0, 0.6), (small, 0.6, 1.0)):
        settings = {"aspect": aspect, "height": 360, "subject": f"{point[0] / canvas.width},{point[1] / canvas.height}"}
        scene = analyse(canvas, LivingPhotoSettings(**settings))
        # A face's size in the frame: its size in the canvas times the crop's enlargement.
        scale = 99 * 360 / (scene.crop[3] - scene.crop[1])
        for index, frame in enumerate(render(canvas, **settings)):
            found = faces_in(frame)
            assert sized(found, size * scale), f"frame {index}: not the face pointed at in {found}"
            assert not sized(found, other * scale), f"frame {index}: the other face too, in {found}"


def test_a_subject_point_on_no_face_is_framed_itself():
    subject = find_subject(np.asarray(PERSON), (0.85, 0.85))  # on the helmet
    assert subject.found_by == "point"
    crop = analyse(PERSON, LivingPhotoSettings(aspect="9:16", subject="0.85,0.85")).crop
    assert crop[0] < 0.85 * 512 < crop[2] and crop[1] < 0.85 * 512 < crop[3]


@pytest.mark.parametrize("subject", ["0.5", "1.2,0.5", "0.5,-0.1", "x,y", "0.1,0.2,0.3"])
def test_a_subject_must_be_a_point_in_the_photo_as_two_fractions(subject):
    with pytest.raises(InvalidSettings, match="The subject must be a point in the photo") as refused:
        LivingPhotoSettings(subject=subject)
    assert refused.value.field == "subject"


def test_a_subject_point_is_taken_from_a_job_s_params():
    assert LivingPhotoSettings.from_params({"subject": "0.25,0.75"}).subject_point == (0.25, 0.75)
    assert LivingPhotoSettings.from_params({"subject": ""}).subject_point is None


def test_a_photo_smaller_than_the_frame_is_restored_before_it_is_enlarged():
    """Dark dust on a small photo's light wall: the restore step fills it in, where a plain
    resize keeps every speck. (Dark, as white specks on a wall this light stand out from it
    by less than ten times the grain that restore measures on so small a photo.)"""
    small = np.array(PERSON.resize((160, 160), Image.Resampling.LANCZOS))
    specks = [(x, y) for x in (100, 106, 112) for y in (12, 22, 32, 42)]
    for x, y in specks:
        small[y : y + 2, x : x + 2] = 0
    photo = Image.fromarray(small)
    settings = LivingPhotoSettings(aspect="1:1", height=240, seconds=2, fps=12)
    crop = analyse(photo, settings).crop
    first = render(photo, aspect="1:1")[0]
    plain = np.asarray(photo.resize(settings.size, Image.Resampling.BICUBIC, box=crop))
    scale = settings.size[1] / (crop[3] - crop[1])

    def darkness_below_surroundings(frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        surroundings = cv2.medianBlur(gray, 9)
        at = [(round((y + 1 - crop[1]) * scale), round((x + 1 - crop[0]) * scale)) for x, y in specks]
        return float(np.mean([int(surroundings[point]) - int(gray[point]) for point in at]))

    assert darkness_below_surroundings(plain) > 30
    assert darkness_below_surroundings(first) < darkness_below_surroundings(plain) / 3


def test_animate_frames_the_subject_given_in_pixels(tmp_path, capsys):
    canvas, _big, small = two_faces()
    photo, out = tmp_path / "two.png", tmp_path / "small-face.mp4"
    canvas.save(photo)
    call_command(
        "animate", str(photo), "-o", str(out), "--subject", f"{small[0]},{small[1]}", "--seconds", "2", "--fps", "12",
        "--aspect", "16:9", "--height", "360",
    )
    with av.open(str(out)) as video:
        frames = [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]
    assert len(frames) == 24 and frames[0].shape == (360, 640, 3)
    # The small face, framed (the crop is as tall as the canvas), and not the large one.
    found = faces_in(frames[0])
    assert sized(found, 0.6 * 99 * 360 / 512) and not sized(found, 99 * 360 / 512)


@pytest.mark.parametrize("point", ["2001,10", "10,-1", "10"])
def test_animate_refuses_a_subject_outside_the_photo_in_one_line(tmp_path, point):
    with pytest.raises(CommandError) as refused:
        call_command("animate", str(CAT_PHOTO), "-o", str(tmp_path / "x.mp4"), f"--subject={point}")
    assert "--subject" in str(refused.value) and "\n" not in str(refused.value)


def test_a_person_s_head_turns_about_the_neck_and_her_lower_body_stays():
    scene = analyse(PERSON, LivingPhotoSettings(aspect="3:4", height=320))
    layer = np.dstack([scene.image, np.full(scene.image.shape[:2], 255, np.uint8)])
    turned = PersonMotion(scene).move(layer, Pose(np.eye(2, 3), np.eye(2, 3), sway=0.03, breath=0.0, blink=0.0))
    x0, y0, x1, y1 = (round(v) for v in scene.face)
    moved = np.abs(turned.astype(np.int16) - layer).mean(axis=2)
    assert moved[y0:y1, x0:x1].mean() > 5  # the face
    belly = round(y1 + 2.6 * (y1 - y0))
    assert belly < layer.shape[0] and not moved[belly:].any()


def test_a_person_does_not_blink_unless_the_operator_turns_the_blink_on(settings):
    settings.GENERATION_LIVING_PHOTO_BLINK = False
    knobs = LivingPhotoSettings(aspect="1:1", height=320, seconds=2, fps=24)
    assert all(pose.blink == 0 for pose in _camera_path(analyse(PERSON, knobs), knobs))


def test_with_the_blink_on_a_person_blinks_once_with_both_eyes_and_a_pet_keeps_its_own_motion(settings):
    settings.GENERATION_LIVING_PHOTO_BLINK = True
    knobs = LivingPhotoSettings(aspect="1:1", height=480, seconds=2, fps=24)
    scene = analyse(PERSON, knobs)
    poses = _camera_path(scene, knobs)
    shut = [index for index, pose in enumerate(poses) if pose.blink == 1]
    assert len(scene.eyes) == 2 and len(shut) == 1
    assert 0.2 < shut[0] / len(poses) < 0.8  # away from the loop's seam
    frames = render(PERSON, aspect="1:1", height=480, seconds=2, fps=24)
    before = shut[0] - 3  # open, the camera nearly where it is at the blink

    def dark_eyes(frame):
        """How much of the band of the face that holds the eyes is as dark as an iris."""
        x, y, w, h = max(faces_in(frame), key=lambda face: face[2] * face[3])
        band = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[y + h // 5 : y + h // 2, x + w // 8 : x + 7 * w // 8]
        return float((band < 80).mean())

    assert dark_eyes(frames[shut[0]]) < 0.25 * dark_eyes(frames[before])
    cat = analyse(CAT_IMAGE, knobs)
    assert all(pose[2:] == (0.0, 0.0, 0.0) for pose in _camera_path(cat, knobs))
