"""Colorize: a learned colorizer (DDColor) for black-and-white photos, on a CPU worker or a GPU.

The photo's lightness is kept as it is, at full resolution; only the colour is the model's:

1. The photo is converted to CIE L*a*b* (any colour it has is dropped: a sepia or a
   hand-tinted print is colorized from its lightness alone).
2. The lightness, resized to the model's square input (512 × 512 for the published models), is
   turned back into a grey RGB photo: what DDColor was trained on.
3. The model predicts a* and b* at that size; they are resized to the photo's own size
   (bilinear: chroma is smooth, and a nearest-neighbour enlargement would show as blocks on a
   12-megapixel scan) and joined with the full-resolution L*, so the photo stays as sharp as it
   was.
4. Where a predicted colour falls outside what RGB can show, its chroma is shrunk until it fits
   (hue and lightness kept), rather than clipping a channel, which would change its lightness.

The weights live in ``<GENERATION_MODELS_DIR>/colorize/`` as the model hub has them
(``manage.py engines download colorize``) and are read from there only, once per worker process.
Torch is imported when a worker first colorizes, never by the web process.

``RestoreColorizeEngine`` runs the restore engine's repairs first, then colorizes.
"""
from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import IMAGE, POSTER, EngineSettings, ImageEngine, ProgressCallback, Readiness
from .restore import RestoreSettings, restore_image
from .torch_runtime import cuda_available, models_dir, readiness_for

ENGINE_NAME = "colorize"
# The weights folder, as the model hub's PyTorchModelHubMixin writes it: the model's constructor
# arguments, and its tensors (safetensors looked for first).
CONFIG_NAME = "config.json"
WEIGHTS_NAMES = ("model.safetensors", "pytorch_model.bin")
# Checkpoints saved before August 2023 carry the encoder's classification head, which the model
# never used and the published code no longer builds.
UNUSED_KEY_PREFIXES = ("encoder.arch.head_cls.",)
# Bisection steps for the chroma of an out-of-gamut colour: it keeps within 2⁻⁸ of the most that fits.
GAMUT_STEPS = 8
# A colour fits in RGB when it comes back from RGB within this much (L*a*b* units).
GAMUT_TOLERANCE = 0.5
# Share of restore+colorize's progress for the restore step.
RESTORE_SHARE = 0.4


@dataclass(frozen=True)
class ColorizeSettings(EngineSettings):
    # A colorized photo keeps its own shape and size; the form asks nothing more.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ()


# --- The model, once per process ------------------------------------------------------------

_MODELS: dict[tuple[str, str], Any] = {}


def colorize_readiness() -> Readiness:
    return readiness_for(ENGINE_NAME, needs=(CONFIG_NAME, WEIGHTS_NAMES), packages=("torch",), gpu_only=False)


def load_model(folder: Path | None = None) -> Any:
    """The DDColor model of ``folder`` (the engine's weights folder by default), on the GPU when
    this worker has one, loaded once per process and never from the internet."""
    folder = folder or models_dir(ENGINE_NAME)
    device = "cuda" if cuda_available() else "cpu"
    key = (str(folder), device)
    if key not in _MODELS:
        _MODELS.clear()
        gc.collect()
        _MODELS[key] = load(folder, device=device)
    return _MODELS[key]


def weights_file(folder: Path) -> Path | None:
    return next((folder / name for name in WEIGHTS_NAMES if (folder / name).is_file()), None)


def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a weights file: safetensors, or a pickle read with ``weights_only`` (no
    code runs); a ``{"params": …}`` training checkpoint is unwrapped."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        # Memory-mapped: the worker processes of one machine share the file's pages.
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        if isinstance(state, dict) and isinstance(state.get("params"), dict):
            state = state["params"]
    return {key: value for key, value in state.items() if not key.startswith(UNUSED_KEY_PREFIXES)}


def load(folder: Path, *, device: str = "cpu") -> Any:
    """The DDColor model in ``folder``, in evaluation mode on ``device``. Every tensor must be
    there and nothing else (strict loading)."""
    import torch

    from .ddcolor import DDColor, DDColorConfig

    config = DDColorConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    path = weights_file(folder)
    if path is None:
        raise FileNotFoundError(f"no {' or '.join(WEIGHTS_NAMES)} in {folder}")
    with torch.device("meta"):  # no time spent initialising weights about to be replaced
        model = DDColor(config)
    model.load_state_dict(read_state_dict(path), strict=True, assign=True)
    return model.to(device).eval().requires_grad_(False)


def save(model: Any, folder: Path, *, safetensors: bool = True) -> None:
    """Write ``model`` as the model hub's mixin does: config.json and model.safetensors (or
    pytorch_model.bin)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_NAME).write_text(json.dumps(model.config.as_dict(), indent=2))
    state = {key: value.contiguous() for key, value in model.state_dict().items()}
    if safetensors:
        from safetensors.torch import save_file

        save_file(state, folder / WEIGHTS_NAMES[0])
    else:
        torch.save(state, folder / WEIGHTS_NAMES[1])


# --- Colour ---------------------------------------------------------------------------------

def lightness_of(rgb: np.ndarray) -> np.ndarray:
    """L* (0–100, float32) of an RGB uint8 photo."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 0]


def grey_rgb(lightness: np.ndarray) -> np.ndarray:
    """The grey RGB photo (float32 in [0, 1]) of the given L*, its a* and b* zero."""
    lab = np.zeros((*lightness.shape, 3), np.float32)
    lab[..., 0] = lightness
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)


def _to_rgb(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RGB (float32, clamped to [0, 1] as OpenCV does) of (N, 3) L*a*b* colours, and which of
    them fit: those that come back from RGB as they went in."""
    rgb = cv2.cvtColor(lab[:, None, :], cv2.COLOR_Lab2RGB)
    away = cv2.absdiff(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, 0, :], lab)
    # Channel by channel: numpy's reductions over a last axis of three are several times slower.
    return rgb[:, 0, :], np.maximum(np.maximum(away[:, 0], away[:, 1]), away[:, 2]) < GAMUT_TOLERANCE


def lab_to_rgb_in_gamut(lab: np.ndarray) -> np.ndarray:
    """RGB uint8 of an L*a*b* float32 photo. A colour RGB cannot show has its chroma scaled
    down, by bisection, to about the most that fits, so its lightness and hue stay the model's
    (clamping a channel, as a plain conversion does, changes both); a grey always fits."""
    colours = lab.reshape(-1, 3)
    rgb, fits = _to_rgb(colours)
    outside = np.flatnonzero(~fits)
    if outside.size:
        wanted = colours[outside]
        best = _to_rgb(wanted * np.array([1, 0, 0], np.float32))[0]  # the grey of each lightness
        low, high = np.zeros(outside.size, np.float32), np.ones(outside.size, np.float32)
        for _step in range(GAMUT_STEPS):
            middle = (low + high) / 2
            converted, inside = _to_rgb(wanted * np.stack([np.ones_like(middle), middle, middle], axis=1))
            best[inside] = converted[inside]
            low, high = np.where(inside, middle, low), np.where(inside, high, middle)
        rgb[outside] = best
    return np.rint(rgb.reshape(lab.shape) * 255).astype(np.uint8)


def colorize_image(rgb: np.ndarray, *, model: Any = None, progress: ProgressCallback = lambda fraction: None) -> np.ndarray:
    """The colorized photo (RGB uint8, the photo's size) of an RGB uint8 photo."""
    import torch

    model = model if model is not None else load_model()
    size = model.config.size
    lightness = lightness_of(rgb)
    small = cv2.resize(lightness, (size, size), interpolation=cv2.INTER_AREA)
    tensor = torch.from_numpy(grey_rgb(small).transpose(2, 0, 1)).unsqueeze(0)
    device = next(model.parameters()).device
    progress(0.1)
    with torch.inference_mode():
        ab = model(tensor.to(device))[0, :2].float().cpu().numpy().transpose(1, 2, 0)
    progress(0.8)
    height, width = lightness.shape
    lab = np.empty((height, width, 3), np.float32)
    lab[..., 0] = lightness
    lab[..., 1:] = cv2.resize(np.ascontiguousarray(ab), (width, height), interpolation=cv2.INTER_LINEAR)
    del lightness
    colorized = lab_to_rgb_in_gamut(lab)
    progress(1.0)
    return colorized


# --- The engines ----------------------------------------------------------------------------

class ColorizeEngine(ImageEngine):
    name = ENGINE_NAME
    label = _("Colorize a black-and-white photo")
    description = _("Gives an old black-and-white photo natural colours, keeping every detail of the original. Learned model (DDColor).")
    queue = "cpu"
    settings_class = ColorizeSettings
    makes = (IMAGE, POSTER)
    time_limit = 300
    weights_repo = "piddnad/ddcolor_paper"

    def readiness(self) -> Readiness:
        return colorize_readiness()

    def render_images(self, photos: list[Image.Image], settings: EngineSettings, progress: ProgressCallback) -> list[Image.Image]:
        return [Image.fromarray(colorize_image(np.asarray(photos[0].convert("RGB")), progress=progress))]


class RestoreColorizeEngine(ImageEngine):
    """The restore engine's repairs, then colorize: one job, one result."""

    name = "restore+colorize"
    label = _("Repair and colorize")
    description = _("Repairs dust, scratches, grain and fading, then gives the photo natural colours.")
    queue = "cpu"
    settings_class = RestoreSettings
    makes = (IMAGE, POSTER)
    time_limit = 300
    weights_repo, weights_folder = ColorizeEngine.weights_repo, ENGINE_NAME

    def readiness(self) -> Readiness:
        return colorize_readiness()

    def render_images(self, photos: list[Image.Image], settings: RestoreSettings, progress: ProgressCallback) -> list[Image.Image]:
        restored = restore_image(
            np.asarray(photos[0].convert("RGB")), upscale=settings.upscale, progress=lambda fraction: progress(RESTORE_SHARE * fraction)
        )
        colorized = colorize_image(restored, progress=lambda fraction: progress(RESTORE_SHARE + (1 - RESTORE_SHARE) * fraction))
        return [Image.fromarray(colorized)]
