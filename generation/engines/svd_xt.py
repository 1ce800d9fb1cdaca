"""svd-xt: Stable Video Diffusion XT animates the photo itself, on a GPU.

SVD-XT (``stabilityai/stable-video-diffusion-img2vid-xt``) makes up to 25 frames from one
image, with no prompt: ``motion`` (0–255) is its motion bucket, how much moves. It was trained
at 1024×576, so it generates at about that many pixels in the video's own shape, and the
frames are then resized to the size the customer chose.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import ASPECT_RATIOS, ProgressCallback, VideoEngine
from .torch_runtime import (
    DiffusionEngine,
    DiffusionSettings,
    denoising_progress,
    finish_frames,
    frame_photo,
    load_pipeline,
    run_with_oom_fallback,
    seeded_generator,
)

PIXEL_BUDGET = 1024 * 576  # SVD-XT's training size
# A portrait of a person: a low motion bucket moves the face and hair a little and leaves the
# camera and the backdrop nearly still (127, the default, turns heads and pans).
PORTRAIT_MOTION = 40
SIZE_MULTIPLE = 64


@dataclass(frozen=True)
class SvdSettings(DiffusionSettings):
    fps: int = 7
    steps: int = 25
    noise_aug_strength: float = 0.02
    decode_chunk_size: int = 8
    num_frames: int = 25

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **DiffusionSettings.LIMITS,
        "fps": (5, 30),
        "motion": (0, 255),
        "noise_aug_strength": (0, 1),
        "decode_chunk_size": (1, 25),
        "num_frames": (2, 25),
    }
    LABELS: ClassVar[dict[str, str]] = {
        **DiffusionSettings.LABELS,
        "noise_aug_strength": _("Noise added to the photo"),
        "decode_chunk_size": _("Frames decoded at once"),
    }


def generation_size(aspect: str) -> tuple[int, int]:
    """The largest size within SVD-XT's pixel budget that has exactly the aspect ratio, with
    both sides multiples of 64: 1024×576 for 16:9, 768×768 for 1:1, 768×576 for 4:3…"""
    across, down = ASPECT_RATIOS[aspect]
    common = math.gcd(across, down)
    across, down = across // common, down // common
    scale = max(1, math.isqrt(PIXEL_BUDGET // (SIZE_MULTIPLE * SIZE_MULTIPLE * across * down)))
    return SIZE_MULTIPLE * across * scale, SIZE_MULTIPLE * down * scale


class SvdXtEngine(DiffusionEngine, VideoEngine):
    name = "svd-xt"
    label = _("Stable Video Diffusion XT")
    description = _("Stable Video Diffusion XT brings the photo itself to life: a few seconds of natural motion. Needs a GPU.")
    settings_class = SvdSettings
    time_limit = 900
    weights_repo = "stabilityai/stable-video-diffusion-img2vid-xt"
    portrait_params = {"motion": PORTRAIT_MOTION}

    def render(self, image: Image.Image, settings: SvdSettings, progress: ProgressCallback) -> Iterator[np.ndarray]:
        from diffusers import StableVideoDiffusionPipeline

        # 1. The pipeline, loaded once per worker process.
        pipeline = load_pipeline(self.name, StableVideoDiffusionPipeline, preferred_dtype="float16")

        # 2. The photo in the video's shape, on the canvas the model generates at.
        width, height = settings.gen_size or generation_size(settings.aspect)
        conditioning, box = frame_photo(image, settings.aspect, (width, height))

        # 3. Denoise and decode. Out of GPU memory, decode fewer frames at a time and retry.
        decode_chunk_size = settings.decode_chunk_size

        def run() -> np.ndarray:
            return pipeline(
                conditioning,
                width=width,
                height=height,
                num_frames=settings.num_frames,
                num_inference_steps=settings.steps,
                fps=settings.fps,
                motion_bucket_id=settings.motion,
                noise_aug_strength=settings.noise_aug_strength,
                decode_chunk_size=decode_chunk_size,
                generator=seeded_generator(settings.seed),
                output_type="np",
                callback_on_step_end=denoising_progress(progress, settings.steps),
            ).frames[0]

        def lighten() -> None:
            nonlocal decode_chunk_size
            decode_chunk_size = max(1, decode_chunk_size // 4)

        video = run_with_oom_fallback(run, lighten)

        # 4. Back to the photo's box, at the product's size, starting on the photo itself.
        yield from finish_frames(video, box, image, settings, progress)
