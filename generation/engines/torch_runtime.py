"""What the engines that run a diffusers pipeline share: weights, device, memory, framing.
(The colorizers, torch engines of the CPU queue, share the weights folder and the readiness.)

The engine registry is imported by the web process, which must start without torch or
diffusers (a web machine need not even have them). So nothing here imports them at module
level: the functions a worker calls while rendering import them when first called.

- Weights live in ``<GENERATION_MODELS_DIR>/<engine name>/`` in diffusers' folder format and are
  only ever read from there (``manage.py engines download NAME`` fetches them once).
- A loaded pipeline stays in memory between the jobs of a worker process: loading a video
  model's gigabytes of weights takes a good part of what a job takes.
- Once loaded, it is made faster only in ways that leave its maths as it is, up to floating-point
  rounding (``optimize_pipeline``): a seed gives the frames it would give without them.
- When the GPU runs out of memory, the render is retried once with lighter settings.
- A video model generates at its own size; the photo is fitted into that canvas and the
  frames are cropped back and resized to the product's size, the first frame being the photo.
"""
from __future__ import annotations

import functools
import gc
import importlib.util
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from django.conf import settings as django_settings
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFilter

from .base import Engine, EngineError, InvalidSettings, ProgressCallback, Readiness, RenderSettings, crop_to_aspect

GPU_PACKAGES = ("torch", "diffusers", "transformers")
# Share of the engine's progress for denoising; cropping and resizing the frames take the rest.
DENOISE_SHARE = 0.9
OUT_OF_MEMORY = gettext_noop("The GPU ran out of memory for this video. Try a shorter or smaller one.")  # stored in English, shown translated
# Frames over which the model's own first frame is eased into the photo, and, for a loop, the
# last frames back into it.
SETTLE_FRAMES = 4

T = TypeVar("T")
logger = logging.getLogger(__name__)


# --- Settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffusionSettings(RenderSettings):
    """Knobs every diffusion engine has. The length is a number of frames, not seconds: a
    video model is trained at a fixed frame count, and ``fps`` only sets the playback speed."""

    steps: int = 25
    num_frames: int = 25
    # The size the model generates at; 0 × 0 lets the engine choose for the aspect ratio. The
    # frames are then resized to ``size``. Small values keep tests with tiny models fast.
    gen_width: int = 0
    gen_height: int = 0

    GEN_MULTIPLE: ClassVar[int] = 8
    # The length is the model's frame count, not the form's seconds.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "height", "fps", "motion", "loop")
    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **{name: limits for name, limits in RenderSettings.LIMITS.items() if name != "seconds"},
        "steps": (1, 100),
        "gen_width": (0, 2048),
        "gen_height": (0, 2048),
    }
    LABELS: ClassVar[dict[str, str]] = {
        **RenderSettings.LABELS,
        "steps": _("Denoising steps"),
        "num_frames": _("Number of frames"),
        "gen_width": _("Generation width"),
        "gen_height": _("Generation height"),
    }
    UNITS: ClassVar[dict[str, str]] = {**RenderSettings.UNITS, "gen_width": _(" pixels"), "gen_height": _(" pixels")}

    def __post_init__(self):
        super().__post_init__()
        for name in ("gen_width", "gen_height"):
            if getattr(self, name) % self.GEN_MULTIPLE:
                raise InvalidSettings(
                    gettext("%(knob)s must be a multiple of %(multiple)d pixels, or 0 to let the engine choose.")
                    % {"knob": self.LABELS[name], "multiple": self.GEN_MULTIPLE},
                    field=name,
                )
        if bool(self.gen_width) != bool(self.gen_height):
            raise InvalidSettings(gettext("Set both the generation width and height, or neither."), field="gen_width")

    @property
    def frame_count(self) -> int:
        return self.num_frames

    @property
    def gen_size(self) -> tuple[int, int] | None:
        """(width, height) the model was asked to generate at, or None to let the engine choose."""
        return (self.gen_width, self.gen_height) if self.gen_width else None


class DiffusionEngine(Engine):
    """An engine that runs a diffusers pipeline on a GPU worker, from its local weights."""

    queue = "gpu"

    def readiness(self) -> Readiness:
        return readiness_for(self.name)


# --- Weights and device ---------------------------------------------------------------------

def models_dir(engine_name: str) -> Path:
    return Path(django_settings.GENERATION_MODELS_DIR) / engine_name


@functools.cache
def cuda_available() -> bool:
    """Whether this process sees a CUDA GPU. Asked once per process: it imports torch."""
    import torch

    return torch.cuda.is_available()


def readiness_for(
    engine_name: str,
    *,
    needs: tuple[str | tuple[str, ...], ...] = ("model_index.json",),
    packages: tuple[str, ...] | None = None,
    gpu_only: bool = True,
) -> Readiness:
    """Whether a torch engine can run in this process, and if not, what to do about it.

    ``needs`` are the files its weights folder must hold (a tuple among them: any one of those);
    when only some are missing, the reason names them,
    ``packages`` what it imports (GPU_PACKAGES by default); an engine that is not ``gpu_only``
    runs on the CPU too. The cheap checks come first, so a web process without the packages or
    the weights answers without importing torch."""
    wanted = GPU_PACKAGES if packages is None else packages
    missing = [package for package in wanted if importlib.util.find_spec(package) is None]
    if missing:
        what = "the GPU packages are" if packages is None else f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
        return Readiness(False, f"{what} not installed (pip install -r requirements-gpu.txt)")
    folder = models_dir(engine_name)
    missing = [need for need in needs if not any((folder / name).is_file() for name in ((need,) if isinstance(need, str) else need))]
    if missing:
        download = f"run `manage.py engines download {engine_name}`"
        if len(missing) == len(needs):
            return Readiness(False, f"no weights in {folder}; {download}")
        names = ", ".join(need if isinstance(need, str) else " or ".join(need) for need in missing)
        return Readiness(False, f"incomplete weights in {folder}: no {names}; {download}")
    if gpu_only and not django_settings.GENERATION_ALLOW_CPU and not cuda_available():
        return Readiness(False, "no CUDA GPU on this worker")
    return Readiness(True)


def device_and_dtype(preferred: str = "float16") -> tuple[str, Any]:
    """("cuda", the preferred half precision) on a GPU; ("cpu", float32) otherwise, as half
    precision is slow or unsupported on the CPU. bfloat16 falls back to float16 on GPUs
    without it."""
    import torch

    if not cuda_available():
        return "cpu", torch.float32
    if preferred == "bfloat16" and not torch.cuda.is_bf16_supported():
        preferred = "float16"
    return "cuda", getattr(torch, preferred)


_PIPELINES: dict[tuple[str, str, str, str], Any] = {}


def load_pipeline(engine_name: str, loader: Any, *, preferred_dtype: str = "float16") -> Any:
    """The engine's pipeline, loaded once per process from its weights folder, never from the
    internet. ``loader`` is a diffusers pipeline class (anything with ``from_pretrained``).

    One pipeline is kept at a time: two video models rarely fit on one GPU together, so a
    worker that switches engines frees the first before loading the second."""
    device, dtype = device_and_dtype(preferred_dtype)
    folder = models_dir(engine_name)
    key = (engine_name, str(folder), device, str(dtype))
    if key not in _PIPELINES:
        _PIPELINES.clear()
        gc.collect()
        free_cuda_memory()
        pipeline = loader.from_pretrained(folder, dtype=dtype, local_files_only=True)
        pipeline.to(device)
        pipeline.set_progress_bar_config(disable=True)
        _PIPELINES[key] = optimize_pipeline(pipeline)
    return _PIPELINES[key]


def seeded_generator(seed: int) -> Any:
    """A generator on the CPU, so a seed gives the same starting noise on any GPU or none."""
    import torch

    return torch.Generator(device="cpu").manual_seed(seed)


# --- Exact speed-ups ------------------------------------------------------------------------

def optimize_pipeline(pipeline: Any) -> Any:
    """``pipeline`` made faster in place, computing the same thing up to floating-point rounding.

    - Attention stays PyTorch's scaled_dot_product_attention (diffusers' default), which on a GPU
      runs a flash or memory-efficient kernel of the same maths.
    - Each attention layer's query, key and value projections become one matrix product.
    - On CUDA, the 2D convolutions of a UNet pipeline take channels_last weights, the layout that
      the GPU's tensor cores work in, and the denoiser is compiled with torch.compile
      (GENERATION_TORCH_COMPILE). Compiling happens during the first run at each new size.

    Nothing approximate: no TF32, no caching of steps, no fewer steps. Call it once per pipeline."""
    for model in _diffusers_models(pipeline):
        _fuse_qkv_projections(model)
    if pipeline.device.type != "cuda":
        return pipeline
    for model in _conv2d_models(pipeline):
        _to_channels_last(model)
    if django_settings.GENERATION_TORCH_COMPILE:
        # Mode "default", not "max-autotune-no-cudagraphs": max-autotune times Triton variants of
        # every matrix product and convolution while compiling, which for models this size can
        # take many minutes of a worker's first job at each size (a job may take 15 to 20), and
        # its picks may differ from one worker process to the next, and a seed's frames with
        # them in their last bits. These products are large, and cuBLAS already runs them near
        # the GPU's peak; compiling gains by fusing the element-wise and normalisation work
        # around them, which "default" does. No CUDA graphs: they keep memory per input size.
        # ``fullgraph=False``: the few Python-side branches of diffusers' forward run eagerly.
        import torch._dynamo

        # A worker that cannot compile (no C compiler for Triton, an unsupported GPU) runs the
        # model uncompiled, with a warning in its log, rather than failing every job.
        torch._dynamo.config.suppress_errors = True
        denoiser(pipeline).compile(fullgraph=False, mode="default")
    return pipeline


def denoiser(pipeline: Any) -> Any:
    """The model the pipeline runs at every step: a UNet (SVD) or a transformer (CogVideoX)."""
    unet = getattr(pipeline, "unet", None)
    return unet if unet is not None else pipeline.transformer


def _diffusers_models(pipeline: Any) -> list[Any]:
    from diffusers import ModelMixin

    return [component for component in pipeline.components.values() if isinstance(component, ModelMixin)]


def _conv2d_models(pipeline: Any) -> list[Any]:
    """The models whose convolutions are mostly 2D: a UNet and its VAE (SVD's have a few 3D
    convolutions across frames too). CogVideoX's VAE convolves in 3D throughout."""
    return [pipeline.unet, pipeline.vae] if getattr(pipeline, "unet", None) is not None else []


def _fuse_qkv_projections(model: Any) -> None:
    """Give each attention layer one projection for query, key and value (key and value for
    cross-attention), and the processor of diffusers that computes attention the same way with it.

    diffusers' own ``fuse_qkv_projections()`` does this for CogVideoX's transformer, but on SVD's
    UNet it silently does nothing (its attention layers are of the older class it skips) and it
    refuses SVD's VAE; hence this, for every layer whose processor has a fused twin."""
    from diffusers.models.attention_processor import (
        Attention,
        AttnProcessor2_0,
        CogVideoXAttnProcessor2_0,
        FusedAttnProcessor2_0,
        FusedCogVideoXAttnProcessor2_0,
    )

    fused = {AttnProcessor2_0: FusedAttnProcessor2_0, CogVideoXAttnProcessor2_0: FusedCogVideoXAttnProcessor2_0}
    unfused = 0
    for name, layer in model.named_modules():
        # An IP-Adapter's image projection (a UNet's ``encoder_hid_proj``) calls its attention
        # layers, built as self-attention, with other keys and values than their queries.
        if not isinstance(layer, Attention) or name.startswith("encoder_hid_proj."):
            continue
        if type(layer.processor) not in fused:
            unfused += 1
            continue
        layer.set_processor(fused[type(layer.processor)]())
        layer.fuse_projections()
        # The separate projections are no longer used; kept, they would hold a second copy of
        # those weights on the GPU (1.2 billion parameters in CogVideoX-5b).
        if not layer.is_cross_attention:
            layer.to_q = None
        layer.to_k = layer.to_v = None
    if unfused:
        logger.warning("%d attention layers of %s keep their processor unfused", unfused, type(model).__name__)


def _to_channels_last(model: Any) -> None:
    """The model's 2D convolution weights in channels_last layout, which the convolutions pass on
    to their outputs. Only the 2D ones: ``model.to(memory_format=...)`` fails on 3D weights."""
    import torch

    for layer in model.modules():
        if isinstance(layer, torch.nn.Conv2d):
            layer.to(memory_format=torch.channels_last)


# --- Running out of GPU memory --------------------------------------------------------------

def free_cuda_memory() -> None:
    """Hand cached, unused GPU memory back; the only CUDA call of the fallback below."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError) or (isinstance(error, RuntimeError) and "out of memory" in str(error))


def run_with_oom_fallback(run: Callable[[], T], lighten: Callable[[], None]) -> T:
    """``run()``; if the GPU runs out of memory, ``lighten()`` (smaller decode chunks, VAE
    tiling…) and ``run()`` once more; if that runs out too, an EngineError for the customer.

    The memory is freed after leaving each ``except`` block: until then the traceback holds the
    failed run's frames, and with them its tensors."""
    try:
        return run()
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        logger.warning("Out of GPU memory (%s); retrying once with lighter settings", error)
    free_cuda_memory()
    lighten()
    try:
        return run()
    except Exception as error:
        if not is_out_of_memory(error):
            raise
    free_cuda_memory()
    raise EngineError(OUT_OF_MEMORY)


def denoising_progress(progress: ProgressCallback, steps: int) -> Callable[[Any, int, Any, dict], dict]:
    """A diffusers ``callback_on_step_end`` that reports denoising as the first DENOISE_SHARE
    of the engine's progress."""

    def on_step_end(pipeline, step: int, timestep, callback_kwargs: dict) -> dict:
        progress(DENOISE_SHARE * min(1.0, (step + 1) / steps))
        return callback_kwargs

    return on_step_end


# --- Framing: the photo in, the frames out --------------------------------------------------

def _place(length: float, crop_start: float, crop_end: float, image_length: int) -> float:
    """Where a window of ``length`` starts along one axis: around the crop, centred on it as far
    as the photo allows, inside the photo where it is long enough."""
    start = (crop_start + crop_end - length) / 2
    low, high = crop_end - length, crop_start  # the window must hold the whole crop
    if max(low, 0) <= min(high, image_length - length):
        low, high = max(low, 0), min(high, image_length - length)
    return min(max(start, low), high)


def frame_photo(image: Image.Image, aspect: str, canvas: tuple[int, int]) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The photo as the model's conditioning image of size ``canvas``, and the box (left, top,
    right, bottom) where the photo cropped to the video's aspect ratio lies on it.

    When the canvas has another shape than the video (a model with one fixed size, a portrait
    video on a landscape model), the crop is fitted in the middle and the margins show the rest
    of the photo, so the model animates a whole scene. Where the photo has nothing more to show,
    a blurred, stretched copy fills in rather than bars: a hard edge in the conditioning image
    tends to become moving content. ``finish_frames`` crops the margins away afterwards."""
    crop = crop_to_aspect(image, aspect)
    width, height = canvas
    scale = min(width / (crop[2] - crop[0]), height / (crop[3] - crop[1]))
    window_width, window_height = width / scale, height / scale
    left = _place(window_width, crop[0], crop[2], image.width)
    top = _place(window_height, crop[1], crop[3], image.height)
    box = (
        round((crop[0] - left) * scale),
        round((crop[1] - top) * scale),
        min(width, round((crop[2] - left) * scale)),
        min(height, round((crop[3] - top) * scale)),
    )
    # The part of the window that the photo covers, and where it falls on the canvas.
    shown = (max(left, 0), max(top, 0), min(left + window_width, image.width), min(top + window_height, image.height))
    target = (
        round((shown[0] - left) * scale),
        round((shown[1] - top) * scale),
        round((shown[2] - left) * scale),
        round((shown[3] - top) * scale),
    )
    photo = image.resize((target[2] - target[0], target[3] - target[1]), Image.Resampling.LANCZOS, box=shown)
    if photo.size == canvas:
        return photo, box
    conditioning = photo.resize(canvas, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(max(canvas) / 30))
    conditioning.paste(photo, target[:2])
    return conditioning, box


def finish_frames(
    video: np.ndarray,
    box: tuple[int, int, int, int],
    image: Image.Image,
    settings: RenderSettings,
    progress: ProgressCallback,
) -> Iterator[np.ndarray]:
    """The model's frames ((frames, height, width, 3) floats in [0, 1]) cropped to ``box``,
    resized to ``settings.size`` and starting on the photo itself, as uint8 RGB arrays."""
    size = settings.size
    photo = np.asarray(image.resize(size, Image.Resampling.LANCZOS, box=crop_to_aspect(image, settings.aspect)), dtype=np.float32)
    count = len(video)
    settle = max(1, min(SETTLE_FRAMES, count // 4))
    correction = None
    for index, generated in enumerate(video):
        pixels = Image.fromarray(np.rint(generated * 255).clip(0, 255).astype(np.uint8))
        frame = np.asarray(pixels.resize(size, Image.Resampling.LANCZOS, box=box), dtype=np.float32)
        if correction is None:
            correction = photo - frame
        # The model's first frame is only close to the photo (softer, colours a little off).
        # Adding the difference back, fully at frame 0 and fading out over the next frames,
        # starts the video on the photo itself without the pop a swapped-in frame 0 would show.
        frame = frame + correction * max(0.0, 1 - index / settle)
        if settings.loop:
            # The model's motion does not come back to where it started; easing the last frames
            # towards the photo makes the jump from the last frame to the first a small one.
            frame = frame + (photo - frame) * max(0.0, (index - (count - 1 - settle)) / (settle + 1))
        yield np.rint(frame).clip(0, 255).astype(np.uint8)
        progress(DENOISE_SHARE + (1 - DENOISE_SHARE) * (index + 1) / count)
