"""living-photo: a photo of a pet, gently alive, on the CPU with no model weights.

1. Find the pet: OpenCV's cat-face cascade where it hits, otherwise a saliency map
   (spectral residual) weighted towards the centre of the photo.
2. Crop the photo to the frame's aspect ratio, leaning towards the pet; this crop is the
   first frame.
3. Segment the pet with GrabCut at low resolution; upsample and feather the matte.
4. Fill the background behind the pet (inpainting at low resolution), so that when the pet
   moves against it there is something to see.
5. Render: the camera pushes in and drifts on an eased path, the pet (the near layer) moves
   more than the background (2.5D parallax) and breathes — a slow swell of the chest anchored
   at its base. With loop on, every motion returns to rest on a whole cycle, so the last frame
   flows into the first.

Everything is deterministic for the same photo, knobs and seed. Frames are composited with
OpenCV in the photo's own resolution band (a working image about 15 % larger than the
output), so each frame costs two affine warps and one blend.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import InvalidSettings, ProgressCallback, RenderSettings, VideoEngine, crop_to_aspect

ANALYSIS_SIDE = 224  # long side, in pixels, at which the pet is found
# Pixels at which it is segmented and the background filled in: GrabCut costs about 10 ms per
# thousand pixels; 28 000 keep a face in a 9:16 portrait whole.
SEGMENT_PIXELS = 28_000
OVERSCAN = 1.15  # the working image is this much larger than the output: room to push in
BREATH_SECONDS = 3.2  # a relaxed cat or dog breathes about 20 times a minute
REUSE_BYTES = 192 * 2**20  # frames held to be shown again later in a loop (see _reuse_plan)


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
    drift: float  # camera drift towards the pet, as a fraction of the frame
    parallax: float  # how much more the pet zooms than the background, relative to the camera
    breath: float  # vertical swell of the pet's body at the top of a breath

    @classmethod
    def from_knob(cls, motion: int) -> Motion:
        m = motion / 255
        return cls(zoom=0.03 + 0.09 * m, drift=0.03 * m, parallax=0.25 + 0.6 * m, breath=0.004 + 0.014 * m)


@dataclass(frozen=True)
class Scene:
    """The photo prepared for rendering, in working-image pixels."""

    image: np.ndarray  # RGB uint8, the crop at working size: frame 0 is this, resized
    background: np.ndarray  # RGB uint8, the same with the pet filled in
    alpha: np.ndarray  # float32 in [0, 1], the pet's matte
    focus: tuple[float, float]  # where the camera drifts to: the face, or the saliency peak
    anchor: tuple[float, float]  # the base of the pet, which stays put when it breathes
    found_by: str  # "cat-face", "saliency"
    crop: tuple[float, float, float, float]  # the part of the photo in frame, in its own pixels


# --- 1. Finding the pet -------------------------------------------------------------------


def _cat_face(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest cat face, as (x, y, w, h) in ``gray``'s pixels, or None."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalcatface_extended.xml")
    # A close-up fills the frame, and the cascade only sees faces with some context around
    # them: pad the photo so that such a face is small enough to be found.
    pad = max(gray.shape) // 4
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=128)
    faces = cascade.detectMultiScale(padded, scaleFactor=1.05, minNeighbors=3, minSize=(24, 24))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda face: face[2] * face[3])
    x, y = x - pad, y - pad
    if w * h < 0.004 * gray.size:  # a speck in a large photo is not the subject
        return None
    return int(max(0, x)), int(max(0, y)), int(w), int(h)


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


def find_subject(rgb: np.ndarray) -> tuple[tuple[int, int, int, int], tuple[float, float], str]:
    """The pet's box (x0, y0, x1, y1), the point to focus on, and how it was found.

    Pets are photographed large and near the middle, so the box is never smaller than half
    the photo each way: a generous box lets GrabCut decide the outline, where a tight one
    would cut ears and tails off.
    """
    h, w = rgb.shape[:2]
    saliency = _saliency(rgb)
    ys, xs = np.nonzero(saliency >= 0.35)
    weights = saliency[ys, xs]
    salient = (float((xs * weights).sum() / weights.sum()), float((ys * weights).sum() / weights.sum()))
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    face = _cat_face(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if face is not None:
        fx, fy, fw, fh = face
        # A pet's body is mostly below and around its face.
        x0, y0 = min(x0, fx - 1.5 * fw), min(y0, fy - 1.5 * fh)
        x1, y1 = max(x1, fx + 2.5 * fw), max(y1, fy + 3.5 * fh)
        focus, found_by = (fx + fw / 2, fy + fh / 2), "cat-face"
    else:
        focus, found_by = salient, "saliency"
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = max((x1 - x0) / 2, w / 4), max((y1 - y0) / 2, h / 4)
    box = (int(max(0, cx - half_w)), int(max(0, cy - half_h)), int(min(w, cx + half_w)), int(min(h, cy + half_h)))
    return box, focus, found_by


# --- 2.–4. Cropping, segmenting, filling in ----------------------------------------------


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


def analyse(image: Image.Image, settings: RenderSettings) -> Scene:
    """Steps 1–4: find, crop, segment and fill in, ready for ``render_scene``."""
    width, height = settings.size
    full = np.asarray(image.convert("RGB"))
    scale = ANALYSIS_SIDE / max(full.shape[:2])
    small = cv2.resize(full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else full
    scale = small.shape[1] / full.shape[1]

    box, focus, found_by = find_subject(small)
    # Frame the pet, but lean only part of the way from the centre: a detector's point is a
    # face, and a face dead centre cuts the body off.
    lean = (0.5 * (focus[0] / scale) + 0.5 * full.shape[1] / 2, 0.5 * (focus[1] / scale) + 0.5 * full.shape[0] / 2)
    crop = crop_to_aspect(image, settings.aspect, lean)

    work_size = (round(width * OVERSCAN), round(height * OVERSCAN))
    work = np.asarray(image.resize(work_size, Image.Resampling.BICUBIC, box=crop))

    def into(size, x, y):
        """A point of the analysed photo (``small``) in the pixels of the crop at ``size``."""
        return ((x / scale - crop[0]) * size[0] / (crop[2] - crop[0]), (y / scale - crop[1]) * size[1] / (crop[3] - crop[1]))

    # Segment and fill in at low resolution, in the crop's coordinates.
    to_small = math.sqrt(SEGMENT_PIXELS / (work_size[0] * work_size[1]))
    analysis_size = (max(16, round(work_size[0] * to_small)), max(16, round(work_size[1] * to_small)))
    work_small = cv2.resize(work, analysis_size, interpolation=cv2.INTER_AREA)
    box_small = tuple(int(round(v)) for v in (*into(analysis_size, box[0], box[1]), *into(analysis_size, box[2], box[3])))
    hard = _segment(work_small, box_small, settings.seed)
    filled = _fill_behind(work_small, hard)

    feather = max(1.0, 0.006 * max(work_size))
    alpha = cv2.GaussianBlur(cv2.resize(hard, work_size, interpolation=cv2.INTER_LINEAR), (0, 0), feather)
    fill = cv2.resize(cv2.GaussianBlur(filled, (0, 0), 1.5), work_size, interpolation=cv2.INTER_LINEAR)
    # Behind the pet: the filled-in background; elsewhere the photo itself.
    under = np.clip(alpha * 1.5, 0, 1)[..., None]
    background = (work * (1 - under) + fill * under).astype(np.uint8)

    ys, xs = np.nonzero(hard > 0.5)
    kx, ky = work_size[0] / analysis_size[0], work_size[1] / analysis_size[1]
    anchor = (float(xs.mean() * kx), float(ys.max() * ky)) if len(xs) else (work_size[0] / 2, work_size[1])
    return Scene(
        image=work, background=background, alpha=alpha.astype(np.float32), focus=into(work_size, *focus), anchor=anchor,
        found_by=found_by, crop=crop,
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


def _view(scene_size, out_size, zoom, centre) -> np.ndarray:
    """The affine map from working-image pixels to output pixels for a camera looking at
    ``centre`` with ``zoom`` (1 = the whole working image)."""
    (sw, sh), (ow, oh) = scene_size, out_size
    kx, ky = ow * zoom / sw, oh * zoom / sh
    return np.array([[kx, 0, ow / 2 - kx * centre[0]], [0, ky, oh / 2 - ky * centre[1]]], np.float32)


def _breathing(anchor, swell) -> np.ndarray:
    """A 3×3 swell about ``anchor``: the body rises, and widens a third as much."""
    ax, ay = anchor
    sx, sy = 1 + swell / 3, 1 + swell
    return np.array([[sx, 0, ax * (1 - sx)], [0, sy, ay * (1 - sy)], [0, 0, 1]], np.float32)


def _camera_path(scene: Scene, settings: RenderSettings) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per frame, the affine maps (working image → output) of the background and of the pet."""
    motion = Motion.from_knob(settings.motion)
    out_size = settings.size
    sh, sw = scene.image.shape[:2]
    centre = np.array([sw / 2, sh / 2])
    # Drift towards the pet, but never so far that the view leaves the working image.
    towards = np.array(scene.focus) - centre
    drift = towards / max(np.linalg.norm(towards), 1e-6) * min(np.linalg.norm(towards), motion.drift * sw)
    breaths = max(1, round(settings.seconds / BREATH_SECONDS))
    count = settings.frame_count
    views = []
    for index in range(count):
        t = index / count if settings.loop else index / (count - 1)
        u = ease(t, loop=settings.loop)
        zoom = 1 + motion.zoom * u
        room = (1 - 1 / zoom) / 2 * np.array([sw, sh])  # how far the view may move and stay inside
        look = centre + np.clip(drift * u, -room, room)
        bg_view = _view((sw, sh), out_size, zoom, look)
        # The near layer: zooms further in, and its swell follows the breath.
        fg_zoom = 1 + motion.zoom * u * (1 + motion.parallax)
        fg_view = _view((sw, sh), out_size, fg_zoom, look + drift * u * motion.parallax * 0.5)
        swell = motion.breath * (1 - math.cos(2 * math.pi * breaths * t)) / 2
        fg_view = (np.vstack([fg_view, [0, 0, 1]]) @ _breathing(scene.anchor, swell))[:2]
        views.append((bg_view, fg_view))
    return views


def _reuse_plan(views: list[tuple[np.ndarray, np.ndarray]], frame_bytes: int) -> list[int]:
    """For each frame, the index of an earlier frame that looks the same (the same maps, to
    a thousandth of a pixel), to be handed out again rather than rendered twice; -1 to render.

    A looping video goes out and back, so its second half is its first half in reverse. Frames
    are held for reuse only while they fit in REUSE_BYTES; past that they are rendered again.
    """
    keys = [tuple(np.round(np.concatenate([bg.ravel(), fg.ravel()]), 3).tolist()) for bg, fg in views]
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

    views = _camera_path(scene, settings)
    plan = _reuse_plan(views, out_size[0] * out_size[1] * 3)
    last_use = {source: index for index, source in enumerate(plan) if source >= 0}
    kept: dict[int, np.ndarray] = {}
    for index, (bg_view, fg_view) in enumerate(views):
        source = plan[index]
        if source >= 0:
            frame = kept[source] if last_use[source] > index else kept.pop(source)
        else:
            background = cv2.warpAffine(scene.background, bg_view, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            near = cv2.warpAffine(near_premultiplied, fg_view, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            uncovered = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(near, 3)), cv2.COLOR_GRAY2RGB)
            frame = cv2.add(cv2.cvtColor(near, cv2.COLOR_RGBA2RGB), cv2.multiply(background, uncovered, scale=1 / 255))
            if index in last_use:
                kept[index] = frame
        yield frame
        progress((index + 1) / len(views))


class LivingPhotoEngine(VideoEngine):
    name = "living-photo"
    label = _("Living photo")
    description = _("Your pet breathes and the camera drifts, with depth between pet and background. Runs anywhere, no GPU needed.")
    queue = "cpu"
    time_limit = 300
    settings_class = LivingPhotoSettings

    def render(self, image: Image.Image, settings: LivingPhotoSettings, progress: ProgressCallback) -> Iterator[np.ndarray]:
        scene = analyse(image, settings)
        progress(0.05)
        yield from render_scene(scene, settings, lambda fraction: progress(0.05 + 0.95 * fraction))
