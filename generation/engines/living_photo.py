"""living-photo: a photo of a pet or a person, gently alive, on the CPU with no model weights.

1. Find the subject (``find_subject``): the face a person pointed at (the ``subject`` knob), or,
   with no face there, that point itself; otherwise the largest face ``faces.detect_faces``
   finds — a person's (OpenCV's frontal-face cascade, with the eyes) or a cat's (the cat-face
   cascade, its box grown into a head: on a close-up the cascade lands on the nose and mouth);
   otherwise, for a dog or anything else, the most face-like salient spot — a spectral-residual
   saliency map, weighted towards the centre, searched with face-shaped (upright ellipse)
   windows of three sizes, upper-middle preferred.
2. Frame it (``frame_subject``): the largest crop of the frame's aspect ratio that keeps the
   whole face, with a margin, putting the eyes on the upper thirds line where the photo allows
   (a face too big to fit: the largest crop centred on it). This crop is the first frame. A
   crop smaller than the working image is restored and enlarged (``restore.restore_image``,
   2×), not merely resized.
3. Segment the subject with GrabCut at low resolution, seeded with the middle of its body box as
   certainly the subject; upsample and feather the matte.
4. Fill the background behind the subject (inpainting at low resolution), so that when the
   subject moves against it there is something to see.
5. Render: the camera pushes in and drifts on an eased path, never so far that the face leaves
   the frame; the subject (the near layer) moves more than the background (2.5D parallax). A
   pet breathes — a slow swell of the chest anchored at its base. A person sways, head and
   shoulders turning a little about the neck, breathes from the chest (shoulders and head rise,
   the chest widens, the belly stays) and, where both eyes were found and GENERATION_LIVING_PHOTO_BLINK is on, blinks
   once — one smooth remap of the person layer per frame. With loop on, every motion returns to
   rest on a whole cycle, so the last frame flows into the first.

Everything is deterministic for the same photo, knobs and seed. Frames are composited with
OpenCV in the photo's own resolution band (a working image about 15 % larger than the
output), so each frame costs two affine warps and one blend, and for a person one remap more
(of the part of the person layer that moves).
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import cv2
import numpy as np
from django.conf import settings as django_settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import ASPECT_RATIOS, InvalidSettings, ProgressCallback, RenderSettings, VideoEngine
from .faces import CAT, PERSON, Face, detect_faces, face_at
from .restore import restore_image

ANALYSIS_SIDE = 224  # long side, in pixels, at which the saliency map is computed
# Pixels at which it is segmented and the background filled in: GrabCut costs about 10 ms per
# thousand pixels; 28 000 keep a face in a 9:16 portrait whole.
SEGMENT_PIXELS = 28_000
OVERSCAN = 1.15  # the working image is this much larger than the output: room to push in
BREATH_SECONDS = 3.2  # a relaxed cat or dog breathes about 20 times a minute
PERSON_BREATH_SECONDS = 4.5  # a person at rest, about 13 times a minute
SWAY_SECONDS = 5.0  # one slow sway of a person's head, to one side and the other
REUSE_BYTES = 192 * 2**20  # frames held to be shown again later in a loop (see _reuse_plan)
# The margin kept around a face when framing, as shares of its width (sides) and height (above,
# for hair, and below); and the smaller one the camera keeps while it moves.
FRAME_MARGIN = {"side": 0.25, "above": 0.35, "below": 0.2}
CAMERA_MARGIN = 0.08
# A cat-face cascade box grown to hold the eyes, as shares of the box (left, above, right,
# below): on a close-up the cascade finds the nose and mouth, and the eyes are most of a box's
# height above it. More would leave the camera no room to push in on a close-up.
CAT_HEAD = (0.5, 0.9, 0.5, 0.1)
# Where the subject point lands on no face: a box this share of the photo's short side.
POINT_FACE = 0.2
# A person blinks once where both eyes were found, when GENERATION_LIVING_PHOTO_BLINK is on. It
# is off by default: in the portrait's frames in docs/images/ the lid stretched over the eye
# reads as closed eyes at full size, but close up one lid looks pale and puffy, and a blink that
# is not quite right is worse in a memorial than none.
BLINK_SECONDS = 0.25
BLINK_AT = 0.4  # of the video's length: away from the loop's seam


@dataclass(frozen=True)
class LivingPhotoSettings(RenderSettings):
    """A video's knobs, and the subject a person picked: ``subject`` is a point in the photo
    (upright, as stored) as fractions of its width and height, "0.42,0.31"; empty to let the
    engine find the subject itself."""

    subject: str = ""

    LABELS: ClassVar[dict[str, str]] = {**RenderSettings.LABELS, "subject": _("Subject")}
    FORM_KNOBS: ClassVar[tuple[str, ...]] = (*RenderSettings.FORM_KNOBS, "subject")

    def __post_init__(self):
        super().__post_init__()
        if self.subject and self.subject_point is None:
            raise InvalidSettings(gettext("The subject must be a point in the photo, as two fractions “x,y” between 0 and 1."), field="subject")

    @property
    def subject_point(self) -> tuple[float, float] | None:
        """(x, y) as fractions of the photo's width and height, or None when not set or not valid."""
        parts = self.subject.split(",")
        try:
            x, y = (float(part) for part in parts)
        except ValueError:
            return None
        return (x, y) if 0 <= x <= 1 and 0 <= y <= 1 else None


@dataclass(frozen=True)
class Motion:
    """How far each part moves at the top of the move, from the motion knob (0–255)."""

    zoom: float  # camera push-in, as a fraction of the frame
    drift: float  # camera drift towards the subject, as a fraction of the frame
    parallax: float  # how much more the subject zooms than the background, relative to the camera
    breath: float  # vertical swell of the body at the top of a breath
    sway: float  # a person's head turn about the neck, in radians, at the top of a sway

    @classmethod
    def from_knob(cls, motion: int) -> Motion:
        m = motion / 255
        return cls(
            zoom=0.03 + 0.09 * m, drift=0.03 * m, parallax=0.25 + 0.6 * m, breath=0.004 + 0.014 * m,
            sway=0.006 + 0.022 * m,
        )


Box = tuple[float, float, float, float]  # (left, top, right, bottom)


@dataclass(frozen=True)
class Subject:
    """Who the video is about, in the photo's own pixels."""

    face: Box  # the face (or head) to keep whole in every frame
    eye_line: float  # the height of the eyes, found or guessed
    eyes: tuple[tuple[float, float], ...]  # both eyes' centres, when both were found
    body: Box  # where the subject's body is, generously: GrabCut decides the outline
    kind: str  # PERSON, CAT, or "other" (a dog, or a point picked on no face)
    found_by: str  # "person-face", "cat-face", "saliency", "point"
    people: tuple[tuple[int, int, int, int], ...] = ()  # every person's face found, (x, y, w, h)


@dataclass(frozen=True)
class Scene:
    """The photo prepared for rendering, in working-image pixels."""

    image: np.ndarray  # RGB uint8, the crop at working size: frame 0 is this, resized
    background: np.ndarray  # RGB uint8, the same with the subject filled in
    alpha: np.ndarray  # float32 in [0, 1], the subject's matte
    focus: tuple[float, float]  # where the camera drifts to: the face's middle
    anchor: tuple[float, float]  # the base of the subject, which stays put when it breathes
    face: Box  # the face to keep in frame
    eyes: tuple[tuple[float, float], ...]  # both eyes' centres, when both were found
    kind: str  # as Subject.kind
    found_by: str  # as Subject.found_by
    crop: tuple[float, float, float, float]  # the part of the photo in frame, in its own pixels
    restored: bool  # the crop was smaller than the working image, and was restored and enlarged


# --- 1. Finding the subject ---------------------------------------------------------------


def _saliency(rgb: np.ndarray) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang, 2007) times a centre prior, normalised to [0, 1]."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log1p(np.abs(spectrum))
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (0, 0), 3)
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32) / 63 - 0.5
    saliency *= np.exp(-(xs**2 + ys**2) / (2 * 0.3**2))
    saliency = cv2.resize(saliency, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    return saliency / max(float(saliency.max()), 1e-6)


def _salient_face(saliency: np.ndarray) -> Box:
    """The most face-like salient spot, for a subject no cascade knows (a dog): the mean
    saliency under an upright ellipse, a face's shape, at three sizes (a larger one preferred
    a little, as a face is more than its eyes and nose), weighted towards the upper middle of
    the photo, where a pet photographed head-on has its face."""
    h, w = saliency.shape
    ys = np.arange(h, dtype=np.float32)[:, None] / h
    prior = np.exp(-((ys - 0.42) ** 2) / (2 * 0.25**2))
    best = (-1.0, (0.0, 0.0, float(w), float(h)))
    for share in (0.22, 0.32, 0.45):
        fw = max(3, round(share * min(h, w)))
        fh = max(3, round(fw * 1.15))
        kernel = np.zeros((fh, fw), np.float32)
        cv2.ellipse(kernel, (fw // 2, fh // 2), (fw // 2, fh // 2), 0, 0, 360, 1.0, -1)
        score = cv2.filter2D(saliency, -1, kernel / kernel.sum(), borderType=cv2.BORDER_CONSTANT) * prior * share**0.3
        # A face's window must lie inside the photo.
        score[: fh // 2], score[h - fh // 2 :], score[:, : fw // 2], score[:, w - fw // 2 :] = 0, 0, 0, 0
        y, x = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[y, x] > best[0]:
            best = (float(score[y, x]), (x - fw / 2, y - fh / 2, x + fw / 2, y + fh / 2))
    return best[1]


def _grow(box: Box, left: float, above: float, right: float, below: float, size: tuple[int, int]) -> Box:
    """``box`` grown by shares of its own width and height, kept inside a photo of ``size``."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    return max(0.0, x0 - left * bw), max(0.0, y0 - above * bh), min(float(size[0]), x1 + right * bw), min(float(size[1]), y1 + below * bh)


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _points_at(face: Face | None, point: tuple[float, float]) -> bool:
    """Whether a person pointing at ``point`` meant ``face``: inside it, or just beside it."""
    return face is not None and (face.contains(point) or face.distance(point) <= 0.75 * max(face.w, face.h))


def find_subject(rgb: np.ndarray, point: tuple[float, float] | None = None) -> Subject:
    """The subject of a photo (RGB, its own pixels); ``point``, as fractions of the photo,
    is where a person said it is."""
    h, w = rgb.shape[:2]
    size = (w, h)
    scale = min(1.0, ANALYSIS_SIDE / max(h, w))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    saliency, k = _saliency(small), w / small.shape[1]
    faces = detect_faces(rgb)
    at = (point[0] * w, point[1] * h) if point is not None else None
    face = face_at(faces, at)
    if at is not None and not _points_at(face, at):
        face = None
    eyes: tuple[tuple[float, float], ...] = ()
    if face is not None and face.kind == PERSON:
        head = tuple(float(v) for v in face.box)
        eye_line, kind, found_by = face.eye_line, PERSON, "person-face"
        eyes = face.eyes if len(face.eyes) == 2 else ()
        body = _grow(head, 1.3, 0.5, 1.3, 20, size)  # head, shoulders and the rest below
    elif face is not None:
        head = _grow(tuple(float(v) for v in face.box), *CAT_HEAD, size)
        eye_line, kind, found_by = head[1] + 0.35 * (head[3] - head[1]), CAT, "cat-face"
        body = _grow(tuple(float(v) for v in face.box), 1.5, 1.5, 1.5, 2.5, size)  # mostly below and around
    else:
        if at is not None:
            half = POINT_FACE * min(w, h) / 2
            head = (max(0.0, at[0] - half), max(0.0, at[1] - half), min(float(w), at[0] + half), min(float(h), at[1] + half))
            found_by = "point"
        else:
            head, found_by = tuple(float(v * k) for v in _salient_face(saliency)), "saliency"
        eye_line, kind = head[1] + 0.4 * (head[3] - head[1]), "other"
        body = _grow(head, 0.8, 0.2, 0.8, 1.5, size)
    if at is None:
        # Unguided, the salient part of the photo is part of the subject too (a pet's body).
        ys, xs = np.nonzero(saliency >= 0.35)
        body = _union(body, (xs.min() * k, ys.min() * k, (xs.max() + 1) * k, (ys.max() + 1) * k))
    # Pets and people are photographed large: a generous box lets GrabCut decide the outline,
    # where a tight one would cut ears and tails off.
    cx, cy = (body[0] + body[2]) / 2, (body[1] + body[3]) / 2
    half_w, half_h = max((body[2] - body[0]) / 2, w / 4), max((body[3] - body[1]) / 2, h / 4)
    body = (max(0.0, cx - half_w), max(0.0, cy - half_h), min(float(w), cx + half_w), min(float(h), cy + half_h))
    people = tuple(face.box_xywh for face in faces if face.kind == PERSON)
    return Subject(face=head, eye_line=float(eye_line), eyes=eyes, body=body, kind=kind, found_by=found_by, people=people)


# --- 2. Framing ---------------------------------------------------------------------------


def frame_subject(size: tuple[int, int], aspect: str, subject: Subject) -> Box:
    """The crop of a photo of ``size`` for the frame's aspect ratio, as (left, top, right,
    bottom): the largest box of that shape, holding the whole face with a margin (or, where
    there is no room for the margin, without), its eyes on the upper thirds line as far as that
    and the photo's edges allow. A person's face, or a point picked, is centred across; a pet's
    face found unguided only halfway from the photo's middle, as a pet's body is beside its face
    as much as below it. A face too big to fit: the largest crop centred on it."""
    w, h = size
    aw, ah = ASPECT_RATIOS[aspect]
    cw, ch = (h * aw / ah, float(h)) if w * ah > h * aw else (float(w), w * ah / aw)
    x0, y0, x1, y1 = subject.face
    with_margin = _grow(subject.face, FRAME_MARGIN["side"], FRAME_MARGIN["above"], FRAME_MARGIN["side"], FRAME_MARGIN["below"], size)
    centre_x = (x0 + x1) / 2 if subject.kind == PERSON or subject.found_by == "point" else ((x0 + x1) / 2 + w / 2) / 2
    for keep in (with_margin, subject.face):
        if keep[2] - keep[0] <= cw and keep[3] - keep[1] <= ch:
            left = min(max(centre_x - cw / 2, keep[2] - cw, 0.0), keep[0], w - cw)
            top = min(max(subject.eye_line - ch / 3, keep[3] - ch, 0.0), keep[1], h - ch)
            return left, top, left + cw, top + ch
    left = min(max((x0 + x1) / 2 - cw / 2, 0.0), w - cw)
    top = min(max((y0 + y1) / 2 - ch / 2, 0.0), h - ch)
    return left, top, left + cw, top + ch


# --- 3.–4. Segmenting, filling in ---------------------------------------------------------


def _segment(rgb: np.ndarray, box: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """A hard matte (0/1) of the pet inside ``box``: GrabCut, seeded with the middle of the
    box as certainly the pet, or a soft ellipse when GrabCut finds nothing sensible."""
    h, w = rgb.shape[:2]
    margin_x, margin_y = max(2, w // 25), max(2, h // 25)  # GrabCut needs some background
    x0, y0 = max(box[0], margin_x), max(box[1], margin_y)
    x1, y1 = min(box[2], w - margin_x), min(box[3], h - margin_y)
    centre, axes = ((x0 + x1) // 2, (y0 + y1) // 2), (max(2, (x1 - x0) // 2), max(2, (y1 - y0) // 2))
    hard = None
    if x1 - x0 > 8 and y1 - y0 > 8:
        mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        mask[y0:y1, x0:x1] = cv2.GC_PR_FGD
        cv2.ellipse(mask, centre, (max(1, axes[0] * 2 // 5), max(1, axes[1] * 2 // 5)), 0, 0, 360, cv2.GC_FGD, -1)
        cv2.setRNGSeed(seed)  # GrabCut's colour models start from k-means on OpenCV's RNG
        cv2.grabCut(rgb, mask, None, np.zeros((1, 65)), np.zeros((1, 65)), 1, cv2.GC_INIT_WITH_MASK)
        hard = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
        # Keep the blob that holds the middle: stray pieces of background would move with the pet.
        _, labels = cv2.connectedComponents(hard.astype(np.uint8))
        hard = (labels == labels[centre[1], centre[0]]).astype(np.float32)
        if not 0.25 * (x1 - x0) * (y1 - y0) < hard.sum() < 0.95 * h * w:
            hard = None
    if hard is None:
        hard = np.zeros((h, w), np.float32)
        cv2.ellipse(hard, centre, axes, 0, 0, 360, 1.0, -1)
    return hard


def _fill_behind(rgb: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """``rgb`` with the pet (a little beyond its matte) painted over from its surroundings.

    Inpainting runs at half this size: the fill is blurred before use and only shows where
    the pet moves off it, and half the size is an eighth of the time.
    """
    h, w = rgb.shape[:2]
    under = cv2.dilate((hard > 0).astype(np.uint8), np.ones((7, 7), np.uint8))
    half = (max(8, w // 2), max(8, h // 2))
    painted = cv2.inpaint(
        cv2.resize(rgb, half, interpolation=cv2.INTER_AREA), cv2.resize(under, half, interpolation=cv2.INTER_NEAREST),
        3, cv2.INPAINT_TELEA,
    )
    return np.where(under[..., None] > 0, cv2.resize(painted, (w, h), interpolation=cv2.INTER_LINEAR), rgb)


def _working_image(
    image: Image.Image, crop: Box, size: tuple[int, int], people: tuple[tuple[int, int, int, int], ...] = (),
) -> tuple[np.ndarray, bool]:
    """The crop at the working ``size`` (RGB), and whether it had to be enlarged. A crop smaller
    than that is first restored at twice its size (the restore engine: dust and scratches
    filled, grain reduced, a soft photo sharpened), so a small photo is enlarged as well as this
    engine can, not merely blurred up. ``people`` are the faces found in the photo already, so
    that restore need not look for them again."""
    if crop[2] - crop[0] >= size[0] and crop[3] - crop[1] >= size[1]:
        return np.asarray(image.resize(size, Image.Resampling.BICUBIC, box=crop)), False
    # The crop's pixels and two more around, so the resampling at its edges has neighbours.
    x0, y0 = max(0, math.floor(crop[0]) - 2), max(0, math.floor(crop[1]) - 2)
    x1, y1 = min(image.width, math.ceil(crop[2]) + 2), min(image.height, math.ceil(crop[3]) + 2)
    region = np.asarray(image.crop((x0, y0, x1, y1)))
    faces = [(x - x0, y - y0, w, h) for x, y, w, h in people]
    enlarged = Image.fromarray(restore_image(region, upscale=2, faces=faces))
    box = (2 * (crop[0] - x0), 2 * (crop[1] - y0), 2 * (crop[2] - x0), 2 * (crop[3] - y0))
    return np.asarray(enlarged.resize(size, Image.Resampling.BICUBIC, box=box)), True


def analyse(image: Image.Image, settings: RenderSettings) -> Scene:
    """Steps 1–4: find, frame, segment and fill in, ready for ``render_scene``."""
    width, height = settings.size
    image = image.convert("RGB")
    subject = find_subject(np.asarray(image), getattr(settings, "subject_point", None))
    crop = frame_subject(image.size, settings.aspect, subject)
    work_size = (round(width * OVERSCAN), round(height * OVERSCAN))
    work, restored = _working_image(image, crop, work_size, subject.people)

    def into(size, x, y):
        """A point of the photo in the pixels of the crop at ``size``."""
        return ((x - crop[0]) * size[0] / (crop[2] - crop[0]), (y - crop[1]) * size[1] / (crop[3] - crop[1]))

    # Segment and fill in at low resolution, in the crop's coordinates.
    to_small = math.sqrt(SEGMENT_PIXELS / (work_size[0] * work_size[1]))
    analysis_size = (max(16, round(work_size[0] * to_small)), max(16, round(work_size[1] * to_small)))
    work_small = cv2.resize(work, analysis_size, interpolation=cv2.INTER_AREA)
    body = subject.body
    box_small = tuple(int(round(v)) for v in (*into(analysis_size, body[0], body[1]), *into(analysis_size, body[2], body[3])))
    hard = _segment(work_small, box_small, settings.seed)
    filled = _fill_behind(work_small, hard)

    feather = max(1.0, 0.006 * max(work_size))
    alpha = cv2.GaussianBlur(cv2.resize(hard, work_size, interpolation=cv2.INTER_LINEAR), (0, 0), feather)
    fill = cv2.resize(cv2.GaussianBlur(filled, (0, 0), 1.5), work_size, interpolation=cv2.INTER_LINEAR)
    # Behind the subject: the filled-in background; elsewhere the photo itself.
    under = np.clip(alpha * 1.5, 0, 1)[..., None]
    background = (work * (1 - under) + fill * under).astype(np.uint8)

    ys, xs = np.nonzero(hard > 0.5)
    kx, ky = work_size[0] / analysis_size[0], work_size[1] / analysis_size[1]
    anchor = (float(xs.mean() * kx), float(ys.max() * ky)) if len(xs) else (work_size[0] / 2, work_size[1])
    x0, y0, x1, y1 = subject.face
    face = (*into(work_size, x0, y0), *into(work_size, x1, y1))
    return Scene(
        image=work, background=background, alpha=alpha.astype(np.float32), focus=into(work_size, (x0 + x1) / 2, (y0 + y1) / 2),
        anchor=anchor, face=face, eyes=tuple(into(work_size, *eye) for eye in subject.eyes), kind=subject.kind,
        found_by=subject.found_by, crop=crop, restored=restored,
    )


# --- 5. Rendering -------------------------------------------------------------------------


def ease(t: float, *, loop: bool) -> float:
    """The camera's position along its path at time ``t`` in [0, 1], from 0 (rest) to 1.

    Looping: out and back on a raised cosine, whose speed is zero at both ends, so the seam
    is invisible. Otherwise: a smoothstep from rest to rest.
    """
    if loop:
        return (1 - math.cos(2 * math.pi * t)) / 2
    return t * t * (3 - 2 * t)


def sway_at(t: float, cycles: int) -> float:
    """A person's head turn at time ``t`` in [0, 1], between −1 and 1: to one side and to the
    other in each cycle, starting and ending each at rest."""
    s = (cycles * t) % 1
    return math.sin(2 * math.pi * s) * math.sin(math.pi * s) / 0.7698  # the product's peak


def _view(scene_size, out_size, zoom, centre) -> np.ndarray:
    """The affine map from working-image pixels to output pixels for a camera looking at
    ``centre`` with ``zoom`` (1 = the whole working image)."""
    (sw, sh), (ow, oh) = scene_size, out_size
    kx, ky = ow * zoom / sw, oh * zoom / sh
    return np.array([[kx, 0, ow / 2 - kx * centre[0]], [0, ky, oh / 2 - ky * centre[1]]], np.float32)


def _in_view(look, zoom, keep: Box, scene_size, *, inside: bool) -> np.ndarray:
    """``look`` moved as little as needed for a camera at ``zoom`` to show all of ``keep`` (and,
    when ``inside``, nothing beyond the working image). The push-in is capped so that it can."""
    size = np.array(scene_size, np.float64)
    half = size / (2 * zoom)
    low, high = np.array(keep[2:]) - half, np.array(keep[:2]) + half
    if inside:
        low, high = np.maximum(low, half), np.minimum(high, size - half)
    return np.clip(look, low, high)


def _breathing(anchor, swell) -> np.ndarray:
    """A 3×3 swell about ``anchor``: the body rises, and widens a third as much."""
    ax, ay = anchor
    sx, sy = 1 + swell / 3, 1 + swell
    return np.array([[sx, 0, ax * (1 - sx)], [0, sy, ay * (1 - sy)], [0, 0, 1]], np.float32)


class Pose(NamedTuple):
    """One frame's motion."""

    background: np.ndarray  # the affine map, working image → output, of the background
    near: np.ndarray  # and of the subject (for a pet, with its breath)
    sway: float  # a person's head turn about the neck, in radians
    breath: float  # how far a person's shoulders have risen, in working-image pixels
    blink: float  # how far a person's eyelids have closed, 0 (open) to 1 (shut)


def _blinks(settings: RenderSettings) -> dict[int, float]:
    """The frames of the one blink and how shut the eyes are in each; the middle one shut."""
    half = max(1, round(BLINK_SECONDS * settings.fps / 2))
    start = round(BLINK_AT * settings.frame_count)
    return {start + i: math.sin(math.pi * i / (2 * half)) for i in range(1, 2 * half) if start + i < settings.frame_count}


def _camera_path(scene: Scene, settings: RenderSettings) -> list[Pose]:
    """Per frame, how the background and the subject move."""
    motion = Motion.from_knob(settings.motion)
    out_size = settings.size
    sh, sw = scene.image.shape[:2]
    centre = np.array([sw / 2, sh / 2])
    # Drift towards the face, but never so far that the view leaves the working image.
    towards = np.array(scene.focus) - centre
    drift = towards / max(np.linalg.norm(towards), 1e-6) * min(np.linalg.norm(towards), motion.drift * sw)
    # The face, with a little room, stays in every frame: the near layer (which zooms most)
    # pushes in no further than shows it whole, and each view is moved to keep it. A side of
    # the face the photo's edge already cuts (a close-up) is not held, only the face's middle.
    keep = _grow(scene.face, CAMERA_MARGIN, CAMERA_MARGIN, CAMERA_MARGIN, CAMERA_MARGIN, (sw, sh))
    middle = ((scene.face[0] + scene.face[2]) / 2, (scene.face[1] + scene.face[3]) / 2)
    x0, y0, x1, y1 = scene.face
    keep = (
        keep[0] if x0 > 1 else middle[0], keep[1] if y0 > 1 else middle[1],
        keep[2] if x1 < sw - 1 else middle[0], keep[3] if y1 < sh - 1 else middle[1],
    )
    most = min(sw / max(keep[2] - keep[0], 1e-6), sh / max(keep[3] - keep[1], 1e-6))
    zoom = min(motion.zoom, max(0.0, (most - 1) / (1 + motion.parallax)))
    person = scene.kind == PERSON
    breaths = max(1, round(settings.seconds / (PERSON_BREATH_SECONDS if person else BREATH_SECONDS)))
    sways = max(1, round(settings.seconds / SWAY_SECONDS))
    # A person's shoulders rise about twice the breath's share of the face's height.
    rise = 2 * motion.breath * (scene.face[3] - scene.face[1])
    blinks = _blinks(settings) if person and django_settings.GENERATION_LIVING_PHOTO_BLINK and len(scene.eyes) == 2 else {}
    count = settings.frame_count
    poses = []
    for index in range(count):
        t = index / count if settings.loop else index / (count - 1)
        u = ease(t, loop=settings.loop)
        bg_zoom = 1 + zoom * u
        look = _in_view(centre + drift * u, bg_zoom, keep, (sw, sh), inside=True)
        bg_view = _view((sw, sh), out_size, bg_zoom, look)
        # The near layer: zooms further in, and its swell follows the breath.
        fg_zoom = 1 + zoom * u * (1 + motion.parallax)
        fg_look = _in_view(look + drift * u * motion.parallax * 0.5, fg_zoom, keep, (sw, sh), inside=False)
        fg_view = _view((sw, sh), out_size, fg_zoom, fg_look)
        breath = (1 - math.cos(2 * math.pi * breaths * t)) / 2
        if person:
            poses.append(Pose(bg_view, fg_view, motion.sway * sway_at(t, sways), rise * breath, blinks.get(index, 0.0)))
        else:
            fg_view = (np.vstack([fg_view, [0, 0, 1]]) @ _breathing(scene.anchor, motion.breath * breath))[:2]
            poses.append(Pose(bg_view, fg_view, 0.0, 0.0, 0.0))
    return poses


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0, 1)
    return t * t * (3 - 2 * t)


class PersonMotion:
    """A person's own motion, as one remap of the person layer per frame, over the part that
    moves (the head, shoulders and chest). The remap samples, for each pixel, the layer at

        (x, y) + sway × turn(x, y) + breath × rise(x, y)   (and the eyelids, in a blink)

    where ``turn`` is a turn about the neck (the head and hair all of it, falling off smoothly
    across the shoulders), and ``rise`` lifts the shoulders and the head with them while the
    chest widens a little, falling off to nothing at the belly. Both fields are computed once."""

    def __init__(self, scene: Scene):
        x0, y0, x1, y1 = scene.face
        fw, fh = x1 - x0, y1 - y0
        h, w = scene.image.shape[:2]
        self.face_width = fw
        nx, ny = (x0 + x1) / 2, y1 + 0.15 * fh  # the neck
        chest, belly = ny + 0.9 * fh, ny + 2.4 * fh
        left, right = max(0, math.floor(nx - 2.8 * fw)), min(w, math.ceil(nx + 2.8 * fw))
        self.rows, self.columns = slice(0, max(1, min(h, math.ceil(belly)))), slice(left, max(left + 1, right))
        ys, xs = np.mgrid[self.rows, self.columns].astype(np.float32)
        across = np.abs(xs - nx)
        turning = (1 - _smoothstep(1.2 * fw, 2.2 * fw, across)) * (1 - _smoothstep(ny, ny + fh, ys))
        rising = (1 - _smoothstep(1.8 * fw, 2.8 * fw, across)) * (1 - _smoothstep(chest, belly, ys))
        self.x, self.y = xs, ys
        self.turn = (turning * (ys - ny), turning * -(xs - nx))
        # Rising by ``breath`` pixels, the chest widens a third as much, in proportion.
        self.rise = (rising * -(xs - nx) / (3 * (belly - y0)), rising)
        self.eyes = scene.eyes

    def move(self, layer: np.ndarray, pose: Pose) -> np.ndarray:
        if not (pose.sway or pose.breath or pose.blink):
            return layer
        map_x = self.x + pose.sway * self.turn[0] + pose.breath * self.rise[0]
        map_y = self.y + pose.sway * self.turn[1] + pose.breath * self.rise[1]
        if pose.blink:
            for eye in self.eyes:
                self._blink(map_x, map_y, eye, pose.blink)
        moved = layer.copy()
        moved[self.rows, self.columns] = cv2.remap(layer, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return moved

    def _blink(self, map_x: np.ndarray, map_y: np.ndarray, eye: tuple[float, float], shut: float) -> None:
        """Close one eye by ``shut`` (0–1), in place: the upper lid's skin, between its crease
        and the lashes, is stretched down over the eye to a closing line, which carries the
        lashes with it; below the line the eye is as it was. The lid's outline is an ellipse
        about the eye, so the corners stay put. Worked on the source coordinates the remap
        already samples, so the lid follows the head as it turns."""
        half_width, half_height, lid = 0.115 * self.face_width, 0.035 * self.face_width, 0.045 * self.face_width
        ex, ey = eye
        near = (np.abs(map_x - ex) < half_width) & (np.abs(map_y - ey) < half_height + lid + 1)
        if not near.any():
            return
        lx, ly = map_x[near] - ex, map_y[near] - ey
        across = np.sqrt(np.clip(1 - (lx / half_width) ** 2, 0, 1))
        top, bottom = -half_height * across, half_height * across
        crease = top - lid * across
        line = top + shut * (bottom - top)
        on_lid = (across > 0) & (ly >= crease) & (ly <= line)
        stretched = crease + (ly - crease) * (top - crease) / np.maximum(line - crease, 1e-3)
        map_y[near] = np.where(on_lid, stretched, ly) + ey


def _reuse_plan(poses: list[Pose], frame_bytes: int) -> list[int]:
    """For each frame, the index of an earlier frame that looks the same (the same motion, to
    a thousandth of a pixel), to be handed out again rather than rendered twice; -1 to render.

    A looping video goes out and back, so a pet's second half is its first half in reverse.
    Frames are held for reuse only while they fit in REUSE_BYTES; past that they are rendered
    again.
    """
    keys = [
        tuple(np.round(np.concatenate([pose.background.ravel(), pose.near.ravel(), pose[2:]]), 3).tolist()) for pose in poses
    ]
    last_use = {key: index for index, key in enumerate(keys)}
    held: dict[tuple, int] = {}  # key → the index of the rendered frame being held
    plan = []
    for index, key in enumerate(keys):
        if key in held:
            plan.append(held[key])
            continue
        plan.append(-1)
        holding = sum(1 for other in held if last_use[other] > index)
        if last_use[key] > index and (holding + 1) * frame_bytes <= REUSE_BYTES:
            held[key] = index
    return plan


def render_scene(scene: Scene, settings: RenderSettings, progress: ProgressCallback) -> Iterator[np.ndarray]:
    out_size = settings.size
    # The near layer is warped premultiplied by its matte, with the matte as a fourth channel
    # (one warp, not two), so that compositing is one multiply and one add per frame:
    # out = near + background × (1 − matte).
    matte = np.round(scene.alpha * 255).astype(np.uint8)
    near_premultiplied = np.dstack([cv2.multiply(scene.image, cv2.merge([matte] * 3), scale=1 / 255), matte])
    person = PersonMotion(scene) if scene.kind == PERSON else None

    poses = _camera_path(scene, settings)
    plan = _reuse_plan(poses, out_size[0] * out_size[1] * 3)
    last_use = {source: index for index, source in enumerate(plan) if source >= 0}
    kept: dict[int, np.ndarray] = {}
    for index, pose in enumerate(poses):
        source = plan[index]
        if source >= 0:
            frame = kept[source] if last_use[source] > index else kept.pop(source)
        else:
            layer = person.move(near_premultiplied, pose) if person is not None else near_premultiplied
            background = cv2.warpAffine(scene.background, pose.background, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            near = cv2.warpAffine(layer, pose.near, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            uncovered = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(near, 3)), cv2.COLOR_GRAY2RGB)
            frame = cv2.add(cv2.cvtColor(near, cv2.COLOR_RGBA2RGB), cv2.multiply(background, uncovered, scale=1 / 255))
            if index in last_use:
                kept[index] = frame
        yield frame
        progress((index + 1) / len(poses))


class LivingPhotoEngine(VideoEngine):
    name = "living-photo"
    label = _("Living photo")
    description = _("Your pet or your loved one breathes and the camera drifts, with depth between them and the background; a person's head sways gently. Runs anywhere, no GPU needed.")
    queue = "cpu"
    time_limit = 300
    settings_class = LivingPhotoSettings
    # A memorial portrait: a third of the usual motion, so the camera barely pushes in and the
    # sway and breath are slight.
    portrait_params = {"motion": 85}

    def render(self, image: Image.Image, settings: LivingPhotoSettings, progress: ProgressCallback) -> Iterator[np.ndarray]:
        scene = analyse(image, settings)
        progress(0.05)
        yield from render_scene(scene, settings, lambda fraction: progress(0.05 + 0.95 * fraction))
