"""memorial-portrait: a studio memorial portrait from one everyday photo, on the CPU, no weights.

What a photo retoucher does by hand, step by step, each a plain function over arrays:

1. **Find the face** (``find_face``): the largest person's face ``faces.detect_faces`` finds
   (OpenCV's bundled frontal-face and eye cascades); none, and the customer is told to choose
   a photo where the face is clear.
2. **Straighten and frame** (``composition``): one affine map from the photo to the portrait —
   turned about the eyes so that their line is level (the roll measured from both eyes, at most
   ±15°), scaled so that the face is 40 % of the portrait's width, the face centred across and
   the eyes on the upper third line: head and shoulders. Where the photo ends before the
   portrait does, the backdrop shows; nothing is stretched.
3. **Restore** the part of the photo in the portrait (``restore.restore_image``: dust, faded
   levels, grain with the face's texture kept, lightness CLAHE as far as the photo is flat, a
   soft photo sharpened; 2× before a large enlargement) — the light and skin evened, not an
   airbrush.
4. **Matte the person** (``person_matte``): GrabCut at about 60 000 pixels, seeded with the
   face and a shoulders trapezoid below it as certainly the person, the head with room for the
   hair and the body below as probably the person, the top and upper sides and whatever lies
   beyond the photo as background; then the edge refined at full size with a guided filter
   (the photo's lightness as the guide), so hair gets a soft edge, after drawing GrabCut's edge
   in a little (where the old background looks like skin its coarse pixels reach past a cheek);
   where the matte is partly open, the colour is taken from the person's nearby
   (``foreground_colours``), so no rim of the old background is left: no halo.
5. **The backdrop** (``backdrop``): a soft radial gradient, lighter behind the head, with a
   slight vignette, in grey, warm brown, blue or white, and a little film grain so it does not
   band in print.
6. **Tone** (``tone_map``): colour, black and white (luminance), or sepia (a toned map of it).
7. **Ribbon and frame** (``draw_ribbon``, ``draw_frame``): a black mourning ribbon across the top
   corners, as on a Korean memorial portrait's frame, and a thin dark line inside the border,
   drawn as anti-aliased polygons.

The candidates are the same portrait on the backdrop chosen first, then on the others (grey,
blue, brown, white): the backdrop is what a family most often hesitates over, and one framing
and one matte shared by all lets them compare like with like. Deterministic for the same photo
and knobs (OpenCV's RNG is seeded for GrabCut, the grain from the seed knob).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import IMAGE, POSTER, EngineError, EngineSettings, ImageEngine, InvalidSettings, ProgressCallback
from .faces import PERSON, Face, detect_faces
from .restore import restore_image

SHAPES: dict[str, tuple[int, int]] = {"4:5": (4, 5), "3:4": (3, 4)}
TONES = ("colour", "bw", "sepia")


@dataclass(frozen=True)
class Backdrop:
    centre: tuple[int, int, int]  # RGB behind the head
    edge: tuple[int, int, int]  # RGB in the corners


# In the order the other candidates take them after the one chosen.
BACKDROPS: dict[str, Backdrop] = {
    "grey": Backdrop(centre=(178, 179, 180), edge=(88, 89, 92)),
    "blue": Backdrop(centre=(128, 158, 196), edge=(38, 58, 96)),
    "brown": Backdrop(centre=(164, 124, 88), edge=(70, 46, 30)),
    "white": Backdrop(centre=(252, 252, 250), edge=(214, 214, 212)),
}
BACKDROP_LABELS = {"grey": _("Soft grey"), "blue": _("Blue"), "brown": _("Warm brown"), "white": _("White")}
TONE_LABELS = {"colour": _("Colour"), "bw": _("Black and white"), "sepia": _("Sepia")}
SHAPE_LABELS = {"4:5": _("4:5 portrait"), "3:4": _("3:4 portrait")}

FACE_WIDTH = 0.40  # of the portrait's width: head and shoulders
EYE_LINE = 1 / 3  # of the portrait's height, from the top
MAX_ROLL = 15.0  # degrees; more is a pose, not a tilt of the camera
MATTE_PIXELS = 60_000  # GrabCut's cost grows with the pixels; this keeps a face 100 px wide
CHOKE = 0.003  # of the portrait's width: how far GrabCut's edge is drawn in before it is refined
GRAIN = 1.6  # the backdrop's grain, in 0–255 steps: enough to hide 8-bit banding in print
NO_FACE = _("We could not find a face in this photo. Choose a photo where the face is clear and looks towards the camera.")


@dataclass(frozen=True)
class MemorialPortraitSettings(EngineSettings):
    """The portrait's shape (``shape``, 4:5 or 3:4; the shared ``aspect`` is not used) and
    height, its backdrop and tone, a mourning ribbon and a frame line, and how many candidates."""

    height: int = 1500  # enough for a 20 × 25 cm print at 150 dpi
    shape: str = "4:5"
    backdrop: str = "grey"
    tone: str = "colour"
    ribbon: bool = False
    frame: bool = False
    count: int = 4

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {**EngineSettings.LIMITS, "height": (512, 3000), "count": (1, len(BACKDROPS))}
    LABELS: ClassVar[dict[str, str]] = {
        **EngineSettings.LABELS,
        "shape": _("Shape"), "backdrop": _("Backdrop"), "tone": _("Tone"), "ribbon": _("Mourning ribbon"), "frame": _("Frame line"),
        "count": _("Candidates"),
    }
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("shape", "backdrop", "tone", "ribbon", "frame", "count")
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"shape": tuple(SHAPES), "backdrop": tuple(BACKDROPS), "tone": TONES}

    def __post_init__(self):
        super().__post_init__()
        for name, allowed in self.CHOICES.items():
            if getattr(self, name) not in allowed:
                raise InvalidSettings(
                    gettext("%(knob)s must be one of %(allowed)s.") % {"knob": self.LABELS[name], "allowed": ", ".join(allowed)}, field=name,
                )

    @property
    def size(self) -> tuple[int, int]:
        aw, ah = SHAPES[self.shape]
        return round(self.height * aw / ah), self.height

    @property
    def backdrops(self) -> list[str]:
        """The candidates' backdrops: the one chosen, then the others in BACKDROPS' order."""
        return [self.backdrop, *(name for name in BACKDROPS if name != self.backdrop)][: self.count]


# --- 1.–2. Finding, straightening and framing the face ----------------------------------


def find_face(rgb: np.ndarray) -> Face:
    """The largest person's face in the photo, or the customer's reason why there is none."""
    people = [face for face in detect_faces(rgb) if face.kind == PERSON]
    if not people:
        raise EngineError(str(NO_FACE))
    return people[0]


def roll_of(face: Face) -> float:
    """How far the eye line is turned from level, in degrees (clockwise, in the photo as seen),
    at most MAX_ROLL either way; 0 unless both eyes were found."""
    if len(face.eyes) != 2:
        return 0.0
    (lx, ly), (rx, ry) = face.eyes
    return float(np.clip(math.degrees(math.atan2(ry - ly, rx - lx)), -MAX_ROLL, MAX_ROLL))


def composition(face: Face, size: tuple[int, int]) -> np.ndarray:
    """The 2×3 affine map from the photo's pixels to the portrait's (``size``, width × height):
    turned about the eyes so that they are level, the face FACE_WIDTH of the portrait's width,
    centred across, the eyes on the upper third line."""
    width, height = size
    eyes = tuple(np.mean(face.eyes, axis=0)) if len(face.eyes) == 2 else (face.centre[0], face.eye_line)
    affine = cv2.getRotationMatrix2D((float(eyes[0]), float(eyes[1])), roll_of(face), FACE_WIDTH * width / face.w)
    centre_x = affine[0] @ (*face.centre, 1.0)
    eye_y = affine[1] @ (*eyes, 1.0)
    affine[0, 2] += width / 2 - centre_x
    affine[1, 2] += height * EYE_LINE - eye_y
    return affine


def _then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The 2×3 affine map of ``first`` followed by ``second``."""
    return (np.vstack([second, [0, 0, 1]]) @ np.vstack([first, [0, 0, 1]]))[:2]


def _scaling(factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The map x → (x − offset) × factor."""
    return np.array([[factor, 0, -offset[0] * factor], [0, factor, -offset[1] * factor]], np.float64)


def framed(rgb: np.ndarray, affine: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo in the portrait, restored (``restore.restore_image``), warped into
    the portrait's ``size``, and where the photo is (1) or is not (0), as float32.

    Only the part of the photo the portrait shows is restored, first brought to about the
    portrait's scale (a large photo made smaller first, a small one restored at 2×), so the
    restoration costs what the portrait's pixels cost, whatever the photo's size."""
    width, height = size
    inverse = cv2.invertAffineTransform(affine)
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64) @ inverse.T
    h, w = rgb.shape[:2]
    x0, y0 = (max(0, math.floor(v) - 4) for v in corners.min(axis=0))
    x1, y1 = min(w, math.ceil(corners[:, 0].max()) + 4), min(h, math.ceil(corners[:, 1].max()) + 4)
    region = rgb[y0:y1, x0:x1]
    scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))  # portrait pixels per photo pixel
    shrink = min(1.0, scale)
    if shrink < 1:
        region = cv2.resize(region, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    upscale = 2 if scale / shrink > 1.5 else 1
    restored = restore_image(np.ascontiguousarray(region), upscale=upscale)
    into = _scaling(shrink * upscale, (x0, y0))  # the photo's pixels → the restored region's
    warp = _then(cv2.invertAffineTransform(into), affine)
    person = cv2.warpAffine(restored, warp, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.ones(restored.shape[:2], np.float32), warp, size, flags=cv2.INTER_LINEAR, borderValue=0)
    return person, inside


# --- 4. Matting the person ---------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where the face is in the portrait, in its pixels."""

    centre: tuple[float, float]
    face_width: float
    face_height: float

    @classmethod
    def of(cls, face: Face, affine: np.ndarray) -> Layout:
        scale = math.sqrt(abs(np.linalg.det(affine[:, :2])))
        cx, cy = affine @ (*face.centre, 1.0)
        return cls((float(cx), float(cy)), face.w * scale, face.h * scale)

    def scaled(self, factor: float) -> Layout:
        return Layout((self.centre[0] * factor, self.centre[1] * factor), self.face_width * factor, self.face_height * factor)


def _seeds(size: tuple[int, int], layout: Layout, inside: np.ndarray) -> np.ndarray:
    """GrabCut's starting mask for a portrait of ``size``: the face and a shoulders trapezoid
    are certainly the person; the head with room for hair, and the body below it, probably; the
    top and the upper sides, and everything beyond the photo, certainly background; the rest
    probably background."""
    width, height = size
    (cx, cy), fw, fh = layout.centre, layout.face_width, layout.face_height
    chin = cy + 0.5 * fh
    mask = np.full((height, width), cv2.GC_PR_BGD, np.uint8)

    def polygon(points, value):
        cv2.fillPoly(mask, [np.round(np.array(points)).astype(np.int32)], value)

    # Probably the person: the head and hair (wider and taller than the face), the neck and the
    # body widening below it to the bottom of the portrait.
    cv2.ellipse(mask, (round(cx), round(cy - 0.12 * fh)), (round(0.82 * fw), round(0.95 * fh)), 0, 0, 360, cv2.GC_PR_FGD, -1)
    polygon([(cx - 0.6 * fw, chin), (cx + 0.6 * fw, chin), (cx + 2.2 * fw, chin + 0.9 * fh), (cx + 2.2 * fw, height),
             (cx - 2.2 * fw, height), (cx - 2.2 * fw, chin + 0.9 * fh)], cv2.GC_PR_FGD)
    # Certainly the person: the middle of the face, the neck and the shoulders below it.
    cv2.ellipse(mask, (round(cx), round(cy)), (round(0.36 * fw), round(0.46 * fh)), 0, 0, 360, cv2.GC_FGD, -1)
    polygon([(cx - 0.2 * fw, chin - 0.1 * fh), (cx + 0.2 * fw, chin - 0.1 * fh), (cx + 0.95 * fw, height),
             (cx - 0.95 * fw, height)], cv2.GC_FGD)
    # Certainly background: a strip along the top, and the sides above the shoulders.
    strip = max(2, round(0.03 * width))
    mask[:strip] = cv2.GC_BGD
    shoulders = round(min(height, chin + 0.4 * fh))
    mask[:shoulders, :strip] = cv2.GC_BGD
    mask[:shoulders, width - strip:] = cv2.GC_BGD
    mask[inside < 0.5] = cv2.GC_BGD
    return mask


def hard_matte(person: np.ndarray, layout: Layout, inside: np.ndarray, seed: int) -> np.ndarray:
    """The person (1) and the rest (0), float32, by GrabCut at about MATTE_PIXELS: the part that
    holds the face, its holes (an earring's gap, a collar) filled."""
    height, width = person.shape[:2]
    factor = min(1.0, math.sqrt(MATTE_PIXELS / (width * height)))
    small_size = (max(32, round(width * factor)), max(32, round(height * factor)))
    factor = small_size[0] / width
    small = cv2.resize(person, small_size, interpolation=cv2.INTER_AREA)
    mask = _seeds(small_size, layout.scaled(factor), cv2.resize(inside, small_size, interpolation=cv2.INTER_AREA))
    cv2.setRNGSeed(seed)  # GrabCut's colour models start from k-means on OpenCV's RNG
    cv2.grabCut(small, mask, None, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_MASK)
    hard = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    _count, labels = cv2.connectedComponents(hard)
    cx, cy = (round(v * factor) for v in layout.centre)
    hard = (labels == labels[min(cy, small_size[1] - 1), min(cx, small_size[0] - 1)]).astype(np.uint8)
    # Holes: background that reaches the portrait's edge is background; the rest is the person.
    _count, pieces = cv2.connectedComponents(1 - hard)
    edge_pieces = np.unique(np.concatenate([pieces[0], pieces[-1], pieces[:, 0], pieces[:, -1]]))
    hard[~np.isin(pieces, edge_pieces)] = 1
    return cv2.resize(hard.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He, Sun and Tang's guided filter with a grey ``guide`` (float32, 0–1): ``source``
    smoothed, but following the guide's edges (a strand of hair against a wall)."""
    def mean(values):
        return cv2.boxFilter(values, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = mean(guide), mean(source)
    a = (mean(guide * source) - mean_i * mean_p) / (mean(guide * guide) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return mean(a) * guide + mean(b)


def person_matte(person: np.ndarray, layout: Layout, inside: np.ndarray, seed: int) -> np.ndarray:
    """The person's matte (float32, 0–1) at the portrait's size: GrabCut's hard matte, its edge
    refined in a band by a guided filter over the photo's lightness, so it follows hair and
    cloth rather than GrabCut's coarse pixels; and faded out where the photo ends."""
    height, width = person.shape[:2]
    radius = max(2, round(0.008 * width))
    # Choked a little: GrabCut's coarse pixels reach past an edge where the background looks like
    # the person (a pale wall beside a cheek), and what they take of it shows as a pale rim.
    choke = max(1, round(CHOKE * width))
    hard = cv2.erode(hard_matte(person, layout, inside, seed), np.ones((2 * choke + 1,) * 2, np.uint8))
    gray = cv2.cvtColor(person, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    refined = np.clip(guided_filter(gray, hard, radius, 2e-3), 0, 1)
    # Only in a band about the hard edge: inside and outside it, GrabCut's answer stands.
    edge = cv2.morphologyEx((hard > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    band = cv2.GaussianBlur(cv2.dilate(edge, np.ones((2 * radius + 1,) * 2, np.uint8)).astype(np.float32), (0, 0), radius / 2)
    alpha = refined * band + (hard > 0.5) * (1 - band)
    # Where the photo ends (a body cut off by its bottom edge), the person fades into the backdrop.
    fade = max(2.0, 0.015 * width)
    alpha *= cv2.GaussianBlur(cv2.erode(inside, np.ones((3, 3), np.uint8), iterations=max(1, round(fade))), (0, 0), fade)
    return np.clip(alpha, 0, 1).astype(np.float32)


def foreground_colours(person: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The person's colours (float32), with the old background taken out of the soft edge.

    A pixel where the matte is partly open is a mix of the person and the old background; the
    less of the person it holds, the more its colour is taken from the person's nearby (a blur
    of the pixels well inside the matte) instead of its own. Composited on a new backdrop, this
    leaves no pale or dark rim of the old one. (Solving ``I = αF + (1 − α)B`` for F, or taking
    α from how far I lies from B towards F, was tried on the portrait fixture: where a pale wall
    meets a pale ear the two colours are too alike, and it drew a dark outline round the ear
    and opened holes in it.)"""
    image = person.astype(np.float32)
    sigma = max(2.0, 0.012 * person.shape[1])
    inside = (alpha > 0.95).astype(np.float32)
    nearby = cv2.GaussianBlur(image * inside[..., None], (0, 0), sigma) / np.maximum(cv2.GaussianBlur(inside, (0, 0), sigma), 1e-4)[..., None]
    own = np.clip((alpha[..., None] - 0.15) / 0.5, 0, 1)  # fully its own from α 0.65
    return image * own + nearby * (1 - own)


# --- 5.–7. Backdrop, tone, ribbon and frame ----------------------------------------------


def backdrop(size: tuple[int, int], name: str, seed: int) -> np.ndarray:
    """A studio backdrop of ``size`` (float32 RGB, 0–255): a soft light behind the head falling
    off to a slightly darker edge (an ellipse a little taller than wide), and fine grain."""
    width, height = size
    colours = BACKDROPS[name]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.sqrt(((xs - width / 2) / (0.75 * width)) ** 2 + ((ys - 0.36 * height) / (0.85 * height)) ** 2)
    t = np.clip(r, 0, 1.2) / 1.2
    t = t * t * (3 - 2 * t)  # smoothstep: a soft centre, an even fall-off
    centre, edge = np.array(colours.centre, np.float32), np.array(colours.edge, np.float32)
    grain = np.random.default_rng(seed).normal(0, GRAIN, (height, width, 1)).astype(np.float32)
    return centre * (1 - t[..., None]) + edge * t[..., None] + grain


def tone_map(rgb: np.ndarray, tone: str) -> np.ndarray:
    """The portrait in colour, in black and white (Rec. 601 luminance), or in sepia: the same
    luminance through a map from a dark brown to a warm cream (float32 in, float32 out)."""
    if tone == "colour":
        return rgb
    luminance = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    if tone == "bw":
        return np.repeat(luminance[..., None], 3, axis=2)
    stops = np.array([0, 0.5, 1.0], np.float32)
    colours = np.array([[28, 18, 10], [150, 112, 76], [252, 240, 218]], np.float32)
    level = np.clip(luminance / 255, 0, 1)
    return np.stack([np.interp(level, stops, colours[:, channel]) for channel in range(3)], axis=2).astype(np.float32)


def _polygon_coverage(size: tuple[int, int], polygons: list[np.ndarray]) -> np.ndarray:
    """How much of each pixel the ``polygons`` (float points) cover, 0–1, anti-aliased."""
    width, height = size
    shift = 4  # sub-pixel precision: 1/16 px
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * (1 << shift)).astype(np.int32) for polygon in polygons], 255, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255


def draw_ribbon(rgb: np.ndarray) -> np.ndarray:
    """A black satin mourning ribbon across both top corners, as a Korean memorial portrait's
    frame has: a band crossing each corner at 45°, with a soft sheen along it."""
    width = rgb.shape[1]
    near, band = 0.08 * width, 0.12 * width  # where the band starts from the corner, and its width, along an edge
    far = near + band
    side = min(math.ceil(far) + 1, width // 2)  # the band lies in the corner's square of this side
    out = rgb.copy()
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)  # from the corner, along the top and the side
    across = (xs + ys - near) / band  # 0 at the band's inner edge, 1 at its outer
    satin = 14 + 34 * np.exp(-(((across - 0.4) / 0.18) ** 2))  # dark, with a sheen along the band
    polygon = np.array([(near, 0), (far, 0), (0, far), (0, near)], np.float32)
    coverage = _polygon_coverage((side, side), [polygon])[..., None]
    for columns, mirrored in ((slice(0, side), False), (slice(width - side, width), True)):
        cover, sheen = (coverage[:, ::-1], satin[:, ::-1]) if mirrored else (coverage, satin)
        out[:side, columns] = out[:side, columns] * (1 - cover) + sheen[..., None] * cover
    return out


def draw_frame(rgb: np.ndarray) -> np.ndarray:
    """A thin dark line inside the border: a rectangle with a rectangular hole, anti-aliased."""
    height, width = rgb.shape[:2]
    inset, thickness = 0.028 * width, max(1.5, 0.004 * width)
    outer = np.array([(inset, inset), (width - inset, inset), (width - inset, height - inset), (inset, height - inset)], np.float32)
    inner = np.array([(inset + thickness, inset + thickness), (width - inset - thickness, inset + thickness),
                      (width - inset - thickness, height - inset - thickness), (inset + thickness, height - inset - thickness)], np.float32)
    line = np.clip(_polygon_coverage((width, height), [outer]) - _polygon_coverage((width, height), [inner]), 0, 1)[..., None]
    return rgb * (1 - line) + np.array([30, 27, 25], np.float32) * line


# --- The engine ---------------------------------------------------------------------------


def memorial_portraits(rgb: np.ndarray, settings: MemorialPortraitSettings, progress: ProgressCallback = lambda fraction: None) -> list[np.ndarray]:
    """The candidates (RGB uint8 arrays of ``settings.size``), one per backdrop, in order."""
    size = settings.size
    face = find_face(rgb)
    affine = composition(face, size)
    person, inside = framed(rgb, affine, size)
    progress(0.35)
    alpha = person_matte(person, Layout.of(face, affine), inside, settings.seed)
    colours = foreground_colours(person, alpha)
    progress(0.7)
    candidates = []
    a = alpha[..., None]
    for number, name in enumerate(settings.backdrops, start=1):
        portrait = tone_map(colours * a + backdrop(size, name, settings.seed) * (1 - a), settings.tone)
        if settings.frame:
            portrait = draw_frame(portrait)
        if settings.ribbon:
            portrait = draw_ribbon(portrait)
        candidates.append(np.clip(np.round(portrait), 0, 255).astype(np.uint8))
        progress(0.7 + 0.3 * number / settings.count)
    return candidates


class MemorialPortraitEngine(ImageEngine):
    name = "memorial-portrait"
    label = _("Memorial portrait")
    description = _(
        "A dignified studio portrait from one everyday photo: the face straightened and framed head and shoulders, "
        "on a studio backdrop, in colour, black and white or sepia. Several to choose from. Runs anywhere."
    )
    queue = "cpu"
    settings_class = MemorialPortraitSettings
    # The candidates, lossless and in order, and a JPEG of the first for sharing (the poster).
    makes = (IMAGE, POSTER)
    time_limit = 300

    def render_images(self, photos: list[Image.Image], settings: MemorialPortraitSettings, progress: ProgressCallback) -> list[Image.Image]:
        return [Image.fromarray(portrait) for portrait in memorial_portraits(np.asarray(photos[0].convert("RGB")), settings, progress)]
