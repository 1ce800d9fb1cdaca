"""Finding faces in a photo: people's and cats', with their eyes, on the CPU with no download.

OpenCV's bundled Haar cascades do the finding: ``haarcascade_frontalface_default`` (people),
``haarcascade_frontalcatface_extended`` (cats) and ``haarcascade_eye`` (eyes, looked for in the
upper half of each face). The photo is looked at with its long side at most ANALYSIS_SIDE pixels
and padded, so that a close-up whose face fills the frame is still found; every box and point is
given back in the photo's own pixels.

Used by the engines that must keep a face whole (living-photo's framing), protect it (restore's
denoising), or let a person choose one (the upload page's face picker).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

PERSON, CAT = "person", "cat"
# Long side, in pixels, at which each kind is looked for: the cat cascade was trained on small
# crops and finds close-ups best in a small photo; people's faces in a group need more pixels.
ANALYSIS_SIDE = {PERSON: 480, CAT: 224}
# How much larger each scale a cascade looks at is than the one before. People's faces are found
# at 1.1 as at 1.05 (on the fixtures and in the tests), in half the time; the cat cascade misses
# the close-up fixture at 1.1.
SCALE_STEP = {PERSON: 1.1, CAT: 1.05}
# The people cascade's confidence (its last stage's level weight) a face needs, unless both its
# eyes are found too: below it, a fold of cloth or a patterned wall.
PERSON_MIN_WEIGHT = 2.0
# Two boxes overlapping by more than this share of the smaller one are the same face.
SAME_FACE_OVERLAP = 0.4


@dataclass(frozen=True)
class Face:
    """A face found in a photo, in the photo's own pixels."""

    x: int
    y: int
    w: int
    h: int
    kind: str  # PERSON or CAT
    eyes: tuple[tuple[float, float], ...] = ()  # the centres of the eyes found in it, left to right

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom)."""
        return self.x, self.y, self.x + self.w, self.y + self.h

    @property
    def box_xywh(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def eye_line(self) -> float:
        """The height of the eyes: where they were found, or where a face's eyes usually are."""
        if self.eyes:
            return sum(y for _x, y in self.eyes) / len(self.eyes)
        return self.y + 0.4 * self.h

    def contains(self, point: tuple[float, float]) -> bool:
        px, py = point
        return self.x <= px <= self.x + self.w and self.y <= py <= self.y + self.h

    def distance(self, point: tuple[float, float]) -> float:
        cx, cy = self.centre
        return float(np.hypot(point[0] - cx, point[1] - cy))


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    """A bundled cascade, loaded once per process."""
    return cv2.CascadeClassifier(cv2.data.haarcascades + name)


def _detect(gray: np.ndarray, cascade: str, *, min_neighbors: int, step: float) -> list[tuple[tuple[int, int, int, int], float]]:
    """Boxes (x, y, w, h) of ``gray``'s pixels with the cascade's confidence in each. The photo
    is padded by a quarter of its long side with mid-grey: a cascade needs some context around a
    face, which a close-up lacks."""
    pad = max(gray.shape) // 4
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=128)
    found, _neighbours, weights = _cascade(cascade).detectMultiScale3(
        padded, scaleFactor=step, minNeighbors=min_neighbors, minSize=(24, 24), outputRejectLevels=True,
    )
    h, w = gray.shape
    boxes = []
    for (x, y, bw, bh), weight in zip(found, weights, strict=True):
        x0, y0 = max(0, int(x) - pad), max(0, int(y) - pad)
        x1, y1 = min(w, int(x + bw) - pad), min(h, int(y + bh) - pad)
        # Mostly inside the photo, and not a speck in a large one.
        if (x1 - x0) * (y1 - y0) >= 0.6 * bw * bh and bw * bh >= 0.002 * gray.size:
            boxes.append(((x0, y0, x1 - x0, y1 - y0), float(weight)))
    return boxes


def _eyes(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[tuple[float, float], ...]:
    """The centres of up to two eyes in the upper half of the face ``box``, left to right."""
    x, y, w, h = box
    upper = gray[y:y + h // 2 + h // 10, x:x + w]
    if upper.size == 0:
        return ()
    found = _cascade("haarcascade_eye.xml").detectMultiScale(upper, scaleFactor=1.05, minNeighbors=4, minSize=(max(4, w // 10),) * 2, maxSize=(w // 2,) * 2)
    # The two largest, one on each side of the face's middle.
    centres = sorted(((x + ex + ew / 2, y + ey + eh / 2, ew * eh) for ex, ey, ew, eh in found), key=lambda eye: -eye[2])
    left = next((eye for eye in centres if eye[0] < x + w / 2), None)
    right = next((eye for eye in centres if eye[0] >= x + w / 2), None)
    return tuple((float(eye[0]), float(eye[1])) for eye in (left, right) if eye is not None)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The area a and b share, as a share of the smaller."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, min(a[2] * a[3], b[2] * b[3]))


def _small_gray(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, side / max(gray.shape))
    return (cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray), scale


def detect_faces(image: Image.Image | np.ndarray) -> list[Face]:
    """The faces in ``image`` (a PIL image or an RGB array), largest first.

    Cats' faces are looked for only in a photo without people's: the cat cascade is the looser
    of the two, and finds cats in the folds of a person's clothes."""
    rgb = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    faces: list[Face] = []
    gray, scale = _small_gray(rgb, ANALYSIS_SIDE[PERSON])
    for box, weight in sorted(_detect(gray, "haarcascade_frontalface_default.xml", min_neighbors=6, step=SCALE_STEP[PERSON]), key=lambda found: -found[0][2] * found[0][3]):
        eyes = _eyes(gray, box)
        if weight < PERSON_MIN_WEIGHT and len(eyes) < 2:
            continue
        x, y, w, h = (round(v / scale) for v in box)
        face = Face(x, y, w, h, PERSON, tuple((ex / scale, ey / scale) for ex, ey in eyes))
        if all(_overlap(face.box_xywh, kept.box_xywh) <= SAME_FACE_OVERLAP for kept in faces):
            faces.append(face)
    if faces:  # a cat's face beside a person's is more often a fold of their clothes
        return faces
    gray, scale = _small_gray(rgb, ANALYSIS_SIDE[CAT])
    for box, _weight in _detect(gray, "haarcascade_frontalcatface_extended.xml", min_neighbors=3, step=SCALE_STEP[CAT]):
        face = Face(*(round(v / scale) for v in box), CAT)
        if all(_overlap(face.box_xywh, kept.box_xywh) <= SAME_FACE_OVERLAP for kept in faces):
            faces.append(face)
    return sorted(faces, key=lambda face: -face.w * face.h)


def face_at(faces: list[Face], point: tuple[float, float] | None) -> Face | None:
    """The face a person pointed at: the one holding ``point`` (the smallest, if several do),
    else the nearest to it; the largest face when no point was given; None when there are none."""
    if not faces:
        return None
    if point is None:
        return faces[0]
    holding = [face for face in faces if face.contains(point)]
    if holding:
        return min(holding, key=lambda face: face.w * face.h)
    return min(faces, key=lambda face: face.distance(point))
