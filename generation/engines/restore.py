"""Restore: repairs what age does to a print, on the CPU, with no weights.

The steps, each measured by ``bench/restore.py`` against the clean photo:

1. **Scratches and dust**, found and filled in from around them (Telea inpainting; Navier-Stokes
   scores the same on the bench). A scratch, light or dark, is found by its shape: a long,
   thin, straight run (probabilistic Hough) of pixels that stand out from their 7×7 median,
   near white or near black, one value all along, with the same picture on both sides; so
   an outline between two regions, whose sides differ, is left alone. Dust: near-white or
   near-black specks that stand out by far more than the grain, on smooth ground. A median
   keeps edges, so real detail does not stand out from it.
2. **Fading and colour casts**: when the blacks have turned grey, each channel is stretched from
   its own black to the brightest channel's white, which also balances a cast.
3. **Grain and JPEG noise**: non-local means on the luma and on the chroma (YCrCb, where grain
   is as strong in the shadows as in the highlights), as strong as the noise measured in the
   photo, none on a clean photo. Faces (``faces.detect_faces``) keep some of their luma
   texture, so skin does not turn waxy.
4. **Blur**: the width of a soft print's blur (a Gaussian's σ) is measured at its strongest
   edges, against the same edges blurred a little more; a blur wider than a crisp photo's own
   is taken out of the lightness by Wiener deconvolution, after the grain is gone and held back
   the more, the grainier the photo came (what is left of the grain would be amplified). A
   crisp photo measures no blur and passes unchanged.
5. **Local contrast**: CLAHE on the lightness (CIE L*a*b*), blended in gently.
6. **Sharpening**: an unsharp mask on the lightness, as strong as the photo is still soft.
7. **Upscale** (optional, 2×): Lanczos, before the contrast and sharpening.

Plain functions over arrays; ``RestoreEngine`` makes them an engine whose job keeps the result
as a PNG (the image) and a JPEG (the poster, for sharing), at the photo's own shape.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import IMAGE, POSTER, EngineSettings, ImageEngine, ProgressCallback
from .faces import PERSON, detect_faces

# A defect stands out from its median by this many times the noise, and at least this much.
DEFECT_SIGMAS = 10.0
DEFECT_MIN_LEVEL = 28
DEFECT_TEXTURES = 1.5  # and by this many times the spread of its neighbourhood
# A defect region larger than this share of the photo is content, not dust.
DEFECT_MAX_REGION = 0.002
DEFECT_MIN_PIXELS = 4
DEFECT_LIGHT, DEFECT_DARK = 200, 60
DEFECT_SPECK_TEXTURES = 5.0
# A scratch: a straight run (Hough) of pixels that stand out from their 7×7 median by
# SCRATCH_SIGMAS times the noise and at least SCRATCH_MIN_LEVEL, this long and no wider, as
# light as DEFECT_LIGHT (or as dark as DEFECT_DARK) along most of it.
SCRATCH_SIGMAS, SCRATCH_MIN_LEVEL = 6.0, 20
SCRATCH_MIN_LENGTH, SCRATCH_MAX_WIDTH = 40, 4  # px; stand-out pixels across, per px of length
SCRATCH_FILLED = 0.7  # of its length stands out
SCRATCH_SIDES = range(3, 7)  # px either side: the picture it crosses
SCRATCH_SIDES_DIFFER = 0.3  # at most, as a share of its depth: an outline's sides differ more
SCRATCH_STEADY = 0.15  # its own value varies along it by at most this share of its depth
NOISE_FLOOR = 2.0  # below this noise level (in 0–255 steps), no denoising
# Non-local means strength per unit of measured grain, on the luma and on the chroma.
DENOISE_PER_SIGMA = 0.75
DENOISE_CHROMA_PER_SIGMA = 0.7
# Non-local means compares 7×7 patches within 11×11 of each pixel: OpenCV's default of 21×21
# scored no better on the bench's grain (within 0.05 dB) at 3.6 times the work.
NLM_PATCH, NLM_SEARCH = 7, 11
CHROMA_AT_HALF = 0.7  # the chroma's strength at half size, as a share of the full-size one's
FACE_TEXTURE_KEPT = 0.35  # of the photo's own texture, inside faces
CLAHE_BLEND = 0.35
CLAHE_CLIP = 2.0
CONTRAST_ENOUGH = 30.0  # lightness spread (std) of a photo that needs no local contrast
CRISP_RATIO = 0.27
# Blur: an edge's gradient against its gradient after a further Gaussian blur of BLUR_PROBE px
# gives the edge's width; a crisp photo's edges measure about CRISP_EDGE px (sampling, lens).
BLUR_PROBE = 1.0
CRISP_EDGE = 0.95
DEBLUR_LEAST = 0.7  # px: a narrower blur is left to the sharpening
DEBLUR_MOST = 4.0
# Wiener: the noise-to-signal power, which bounds the gain (9× at most), and grows with the
# grain the photo came with: what the denoiser leaves of it would be amplified with the detail.
DEBLUR_REGULARISE = 0.003
DEBLUR_PER_GRAIN = 0.0003  # per squared unit of measured grain
SHARPEN_MOST = 1.8
# A print whose darkest tones (every channel's 0.5th percentile) are this light has faded.
BLACK_LIFTED = 40
LEVELS_MAX_GAIN = 2.5


@dataclass(frozen=True)
class RestoreSettings(EngineSettings):
    upscale: int = 1

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {**EngineSettings.LIMITS, "upscale": (1, 2)}
    LABELS: ClassVar[dict[str, str]] = {**EngineSettings.LABELS, "upscale": _("Enlarge")}
    # A restored photo keeps its own shape and size; the form asks nothing more (yet).
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ()


def noise_sigma(gray: np.ndarray) -> float:
    """The standard deviation of the photo's grain, in 0–255 steps: the robust spread (MAD) of
    what a light blur takes away, over the flattest half of the photo, where detail does not
    count as noise. JPEG blocks and film grain are coarser than one pixel, so this looks at a
    blur of 1.5 px rather than at single-pixel differences."""
    values = gray.astype(np.float32)
    residual = values - cv2.GaussianBlur(values, (0, 0), 1.5)
    structure = cv2.GaussianBlur(np.abs(cv2.Sobel(cv2.GaussianBlur(values, (0, 0), 2.0), cv2.CV_32F, 1, 1)), (0, 0), 2.0)
    flat = structure <= np.median(structure)
    return float(1.4826 * np.median(np.abs(residual[flat])) * 1.6)


def _is_scratch(gray: np.ndarray, standing_out: np.ndarray, near: np.ndarray, segment: np.ndarray, sign: int) -> bool:
    """Whether a straight run of pixels that stand out (``sign`` 1: lighter than their median,
    -1: darker) is a scratch: thin, as light (dark) as a scratch is and steadily so along its
    length, with the same picture on both sides. An outline between two regions has different
    values on its two sides; a thin thing in the picture rarely keeps one value all along."""
    x1, y1, x2, y2 = (float(value) for value in segment)
    length = float(np.hypot(x2 - x1, y2 - y1))
    steps = np.linspace(0.0, 1.0, int(length) + 1)
    xs, ys = x1 + steps * (x2 - x1), y1 + steps * (y2 - y1)
    across_x, across_y = -(y2 - y1) / length, (x2 - x1) / length
    height, width = gray.shape

    def sample(image: np.ndarray, offsets) -> np.ndarray:  # (offset, point along)
        return np.stack([image[np.clip(np.round(ys + offset * across_y).astype(int), 0, height - 1),
                               np.clip(np.round(xs + offset * across_x).astype(int), 0, width - 1)] for offset in offsets])

    if sample(near, [0]).mean() < SCRATCH_FILLED or sample(standing_out, range(-3, 4)).sum(axis=0).mean() > SCRATCH_MAX_WIDTH:
        return False
    line = sample(gray, (-1, 0, 1)).astype(np.float32)
    core = line.max(axis=0) if sign > 0 else line.min(axis=0)
    if (np.percentile(core, 90) < DEFECT_LIGHT) if sign > 0 else (np.percentile(core, 10) > DEFECT_DARK):
        return False

    def side(offsets) -> np.ndarray:  # the picture there, leaving out what stands out (another scratch)
        values = sample(gray, offsets).astype(np.float32)
        values[sample(near, offsets) > 0] = np.nan
        found, seen = np.full(len(xs), np.nan, np.float32), ~np.isnan(values).all(axis=0)
        found[seen] = np.nanmedian(values[:, seen], axis=0)
        return found

    left, right = side([-offset for offset in SCRATCH_SIDES]), side(list(SCRATCH_SIDES))
    seen = ~np.isnan(left) & ~np.isnan(right)
    if seen.mean() < 0.5:
        return False
    left, right, core = left[seen], right[seen], core[seen]
    depth = float(np.median(sign * (core - (left + right) / 2)))
    return np.median(np.abs(left - right)) <= SCRATCH_SIDES_DIFFER * depth and core.std() <= SCRATCH_STEADY * depth


def scratch_mask(gray: np.ndarray, median: np.ndarray, sigma: float) -> np.ndarray:
    """Light and dark scratches (bool mask): straight runs (probabilistic Hough) of pixels that
    stand out from their median, each kept if ``_is_scratch`` says so."""
    away = gray.astype(np.float32) - median
    floor = max(SCRATCH_MIN_LEVEL, SCRATCH_SIGMAS * sigma)
    found = np.zeros(gray.shape, np.uint8)
    for sign in (1, -1):
        standing_out = (sign * away > floor).astype(np.uint8)
        segments = cv2.HoughLinesP(standing_out, 1, np.pi / 180, int(SCRATCH_FILLED * SCRATCH_MIN_LENGTH),
                                   minLineLength=SCRATCH_MIN_LENGTH, maxLineGap=3)
        if segments is None:
            continue
        near = cv2.dilate(standing_out, np.ones((3, 3), np.uint8))
        lines = np.zeros_like(standing_out)
        for segment in segments[:, 0]:
            if _is_scratch(gray, standing_out, near, segment, sign):
                cv2.line(lines, (int(segment[0]), int(segment[1])), (int(segment[2]), int(segment[3])), 1, 3)
        found |= lines & standing_out
    return found.astype(bool)


def defect_mask(gray: np.ndarray, sigma: float) -> np.ndarray:
    """Dust and scratches: uint8 mask (255 where a defect is), grown by a pixel.

    Scratches are found by their shape (``scratch_mask``). Dust: pixels near white or near black
    that stand out from their 7×7 median by far more than the grain and than the texture
    around it, in specks on smooth ground (DEFECT_SPECK_TEXTURES), so that texture and outlines
    are not taken for dust. A median keeps edges, so real detail does not stand out from it."""
    median = cv2.medianBlur(gray, 7)
    smooth = median.astype(np.float32)
    texture = np.sqrt(np.maximum(cv2.blur(smooth * smooth, (15, 15)) - cv2.blur(smooth, (15, 15)) ** 2, 0))
    away = np.abs(gray.astype(np.float32) - smooth)
    floor = max(DEFECT_MIN_LEVEL, DEFECT_SIGMAS * sigma)
    extreme = (gray >= DEFECT_LIGHT) | (gray <= DEFECT_DARK)
    outliers = ((away > np.maximum(floor, DEFECT_TEXTURES * texture)) & extreme).astype(np.uint8)
    on_smooth = outliers.astype(bool) & (away > DEFECT_SPECK_TEXTURES * texture)
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(outliers, connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    speck = np.zeros(count, bool)
    speck[np.unique(labels[on_smooth])] = True
    # Too large to be dust: content. A pixel or two alone: grain or a JPEG ring.
    keep = speck & (area <= DEFECT_MAX_REGION * gray.size) & (area >= DEFECT_MIN_PIXELS)
    keep[0] = False  # the background label
    defects = keep[labels] | scratch_mask(gray, median, sigma)
    return cv2.dilate(defects.astype(np.uint8) * 255, np.ones((3, 3), np.uint8))


def levels_restore(rgb: np.ndarray) -> np.ndarray:
    """Bring a faded print's levels back: when every channel's black has turned grey (its
    0.5th percentile above BLACK_LIFTED), each channel is stretched from its own black to the
    brightest channel's white, which also takes out a cast. A photo with real blacks, however
    dark or warm, passes unchanged."""
    lows, highs = np.percentile(rgb.reshape(-1, 3), (0.5, 99.5), axis=0)
    if lows.min() < BLACK_LIFTED:
        return rgb
    white = float(highs.max())
    out = rgb.astype(np.float32)
    for channel in range(3):
        gain = min(LEVELS_MAX_GAIN, white / max(highs[channel] - lows[channel], 8.0))
        out[..., channel] = (out[..., channel] - lows[channel]) * gain
    return np.clip(out, 0, 255).astype(np.uint8)


def _denoise_chroma(chroma: np.ndarray, strength: float) -> np.ndarray:
    """Non-local means on the two chroma channels at half size, enlarged back: chroma's grain
    is coarse and the eye resolves colour at about half the detail of lightness (which is why
    JPEG and video keep it at half size), so the result looks the same for a quarter of the
    work. Averaging four pixels into one leaves about 1/√2 of coarse grain (half of fine
    grain), so the strength is 0.7 of the full-size one's."""
    h, w = chroma.shape[:2]
    if min(h, w) < 64:
        return cv2.fastNlMeansDenoising(np.ascontiguousarray(chroma), None, strength, NLM_PATCH, NLM_SEARCH)
    half = cv2.resize(chroma, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    cleaned = cv2.fastNlMeansDenoising(half, None, CHROMA_AT_HALF * strength, NLM_PATCH, NLM_SEARCH)
    return cv2.resize(cleaned, (w, h), interpolation=cv2.INTER_LINEAR)


def denoise(rgb: np.ndarray, sigma: float, faces: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Non-local means on the luma and, together, the two chroma channels (YCrCb), each as
    strong as the grain measured. In YCrCb the grain is as strong in the shadows as in the
    highlights, so one strength fits the whole photo (in L*a*b*, which OpenCV's colour
    denoiser uses, the shadows' grain is magnified). Faces keep some of their own luma
    texture, so skin does not turn waxy; their colour is denoised fully."""
    if sigma < NOISE_FLOOR:
        return rgb
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    luma = cv2.fastNlMeansDenoising(ycc[..., 0], None, float(np.clip(DENOISE_PER_SIGMA * sigma, 3, 30)), NLM_PATCH, NLM_SEARCH)
    chroma = _denoise_chroma(ycc[..., 1:], float(np.clip(DENOISE_CHROMA_PER_SIGMA * sigma, 3, 30)))
    if faces:
        keep = np.zeros(rgb.shape[:2], np.float32)
        for x, y, w, h in faces:
            keep[y:y + h, x:x + w] = FACE_TEXTURE_KEPT
        keep = cv2.GaussianBlur(keep, (0, 0), max(3.0, max(rgb.shape[:2]) / 200))
        luma = np.clip(luma * (1 - keep) + ycc[..., 0] * keep + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(np.dstack([luma, chroma]), cv2.COLOR_YCrCb2RGB)


def blur_sigma(gray: np.ndarray) -> float:
    """The width (Gaussian σ, px) of the blur that softened the photo, 0 for a crisp one.

    At an edge blurred by σ the gradient peaks at 1/σ; a further blur by BLUR_PROBE brings
    it down to 1/√(σ² + BLUR_PROBE²), so their ratio gives σ (Zhuo and Sim's defocus
    estimate). The median over the strongest fifth of the photo's edges (Canny), less a crisp
    photo's own edge width."""
    values = gray.astype(np.float32)

    def gradient(image):
        return np.hypot(cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1))

    sharp, probed = gradient(values), gradient(cv2.GaussianBlur(values, (0, 0), BLUR_PROBE))
    edges = cv2.Canny(gray, 50, 150) > 0
    if edges.sum() < 100:
        return 0.0
    edges &= probed >= np.percentile(probed[edges], 80)
    ratio = sharp[edges] / np.maximum(probed[edges], 1e-3)
    width = float(np.median(BLUR_PROBE / np.sqrt(np.maximum(ratio * ratio - 1, 1e-6))))
    blur = np.sqrt(max(width * width - CRISP_EDGE * CRISP_EDGE, 0.0))
    return float(min(blur, DEBLUR_MOST)) if blur >= DEBLUR_LEAST else 0.0


def deblur(rgb: np.ndarray, sigma: float, *, grain: float = 0.0) -> np.ndarray:
    """Wiener deconvolution of the lightness (CIE L*a*b*) by a Gaussian of ``sigma`` px, held
    back the more, the grainier the photo came (``grain``, as ``noise_sigma`` measures it);
    colour is left as it is (blur barely shows in it). The photo is mirrored at its borders
    first, so the transform's wrap-around does not ring there."""
    if sigma <= 0:
        return rgb
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    height, width = rgb.shape[:2]
    pad = int(4 * sigma) + 8
    rows, cols = cv2.getOptimalDFTSize(height + 2 * pad), cv2.getOptimalDFTSize(width + 2 * pad)
    mirrored = cv2.copyMakeBorder(lab[..., 0], pad, rows - height - pad, pad, cols - width - pad, cv2.BORDER_REFLECT)
    frequency = (np.fft.fftfreq(rows)[:, None] ** 2 + np.fft.fftfreq(cols)[None, :] ** 2).astype(np.float32)
    transfer = np.exp(-2 * np.pi**2 * sigma**2 * frequency)
    inverse = transfer / (transfer * transfer + max(DEBLUR_REGULARISE, DEBLUR_PER_GRAIN * grain * grain))
    spectrum = cv2.dft(mirrored, flags=cv2.DFT_COMPLEX_OUTPUT) * inverse[..., None]
    lab[..., 0] = cv2.idft(spectrum, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)[pad:pad + height, pad:pad + width]
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def lightness_finish(rgb: np.ndarray, *, softness: float) -> np.ndarray:
    """CLAHE blended into the lightness as far as the photo lacks contrast, then an unsharp
    mask as strong as the photo is soft. A crisp photo with good contrast passes unchanged."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lightness = lab[..., 0].astype(np.float32)
    blend = float(np.clip((CONTRAST_ENOUGH - lightness.std()) / CONTRAST_ENOUGH, 0, CLAHE_BLEND))
    if blend > 0:
        clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(8, 8)).apply(lab[..., 0])
        lightness = lightness * (1 - blend) + clahe.astype(np.float32) * blend
    if softness > 0:
        lightness = lightness + softness * (lightness - cv2.GaussianBlur(lightness, (0, 0), 1.4))
    if blend == 0 and softness == 0:
        return rgb
    lab[..., 0] = np.clip(lightness, 0, 255).astype(np.uint8)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def softness_of(gray: np.ndarray) -> float:
    """How much to sharpen: 0 for a crisp photo, up to SHARPEN_MOST for a blurred print. A crisp
    photo keeps about a third of its detail energy at full size against half size (measured on
    the fixtures: 0.30); blur takes the fine detail first."""
    fine = cv2.Laplacian(gray, cv2.CV_32F).var()
    coarse = cv2.Laplacian(cv2.pyrDown(gray), cv2.CV_32F).var()
    if coarse <= 1e-6:
        return 0.0
    return float(np.clip((CRISP_RATIO - fine / coarse) / 0.08, 0, 1) * SHARPEN_MOST)


def restore_image(
    rgb: np.ndarray, *, upscale: int = 1, faces: list[tuple[int, int, int, int]] | None = None,
    progress: ProgressCallback = lambda fraction: None,
) -> np.ndarray:
    """The restored photo (RGB uint8), at ``upscale`` times its size. ``faces`` are the people's
    faces in it, (x, y, w, h), where the caller has found them already; found here otherwise."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sigma = noise_sigma(gray)
    mask = defect_mask(gray, sigma)
    repaired = cv2.inpaint(rgb, mask, 3, cv2.INPAINT_TELEA) if mask.any() else rgb
    progress(0.2)
    repaired = levels_restore(repaired)
    gray = cv2.cvtColor(repaired, cv2.COLOR_RGB2GRAY)
    if faces is None:
        faces = [(face.x, face.y, face.w, face.h) for face in detect_faces(repaired) if face.kind == PERSON]
    cleaned = denoise(repaired, noise_sigma(gray) if mask.any() else sigma, faces)
    progress(0.7)
    cleaned = deblur(cleaned, blur_sigma(cv2.cvtColor(cleaned, cv2.COLOR_RGB2GRAY)), grain=sigma)
    softness = softness_of(cv2.cvtColor(cleaned, cv2.COLOR_RGB2GRAY))
    if upscale > 1:
        cleaned = cv2.resize(cleaned, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LANCZOS4)
    finished = lightness_finish(cleaned, softness=softness)
    progress(1.0)
    return finished


class RestoreEngine(ImageEngine):
    name = "restore"
    label = _("Restore an old photo")
    description = _("Repairs dust, scratches, grain and fading, and brings back contrast and colour balance. Runs anywhere.")
    queue = "cpu"
    settings_class = RestoreSettings
    # The restored photo, lossless, and a JPEG of it for sharing (the poster).
    makes = (IMAGE, POSTER)
    time_limit = 300

    def render_images(self, photos: list[Image.Image], settings: RestoreSettings, progress: ProgressCallback) -> list[Image.Image]:
        return [Image.fromarray(restore_image(np.asarray(photos[0].convert("RGB")), upscale=settings.upscale, progress=progress))]
