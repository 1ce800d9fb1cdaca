"""cogvideox-i2v: CogVideoX image-to-video animates the photo as a prompt describes, on a GPU.

CogVideoX-5b-I2V (``THUDM/CogVideoX-5b-I2V``) makes 49 frames (about 6 seconds at 8 fps) from
the photo and a text prompt. Its positional embeddings are learned at 720×480, so that model
generates at that size only: a portrait or square video is made on the landscape canvas, with
the photo fitted in the middle, and cropped back out. Models without that restriction
generate at 720×480 or 480×720, whichever is closer to the video's shape.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import ASPECT_RATIOS, EngineError, InvalidSettings, ProgressCallback, VideoEngine
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

DEFAULT_PROMPT = (
    "A pet gently breathing and blinking, looking around calmly, soft natural light, "
    "subtle natural motion, steady camera, high quality, realistic detail."
)
# For a memorial portrait of a person: what moves is small, and the camera does not.
PORTRAIT_PROMPT = (
    "A formal portrait of a person coming gently to life: a calm, peaceful face, a slow natural "
    "blink, a faint smile, breathing softly, hair moving slightly in a light breeze. The camera "
    "does not move, no zoom, no pan; the background stays still. Soft studio light, realistic, "
    "dignified, high quality."
)
PROMPT_MAX_CHARS = 500
# The VAE turns every 4 frames after the first into one latent frame, and decodes the latent
# frames two at a time, a leftover one going with the first pair: only an odd number of latent
# frames decodes to the frames asked for (13 asked, 16 made). So n - 1 must be a multiple of 8.
FRAME_STEP = 8
LANDSCAPE_SIZE = (720, 480)


@dataclass(frozen=True)
class CogSettings(DiffusionSettings):
    fps: int = 8
    prompt: str = DEFAULT_PROMPT
    steps: int = 50
    guidance: float = 6.0
    num_frames: int = 49

    # CogVideoX has no motion strength; the prompt says what moves.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "height", "fps", "loop", "prompt")
    # The VAE shrinks 8 times and the transformer takes 2×2 patches of that.
    GEN_MULTIPLE: ClassVar[int] = 16
    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **DiffusionSettings.LIMITS,
        "fps": (5, 30),
        "guidance": (1, 20),
        "num_frames": (9, 49),
    }
    LABELS: ClassVar[dict[str, str]] = {**DiffusionSettings.LABELS, "prompt": _("Prompt"), "guidance": _("Prompt guidance")}

    def __post_init__(self):
        super().__post_init__()
        if (self.num_frames - 1) % FRAME_STEP:
            allowed = range(int(self.LIMITS["num_frames"][0]), int(self.LIMITS["num_frames"][1]) + 1, FRAME_STEP)
            raise InvalidSettings(
                gettext("Number of frames must be one of %(allowed)s.") % {"allowed": ", ".join(map(str, allowed))}, field="num_frames"
            )
        if not self.prompt.strip():
            raise InvalidSettings(gettext("The prompt must describe the motion; it cannot be empty."), field="prompt")
        if len(self.prompt) > PROMPT_MAX_CHARS:
            raise InvalidSettings(gettext("The prompt must be at most %(limit)d characters.") % {"limit": PROMPT_MAX_CHARS}, field="prompt")


def generation_size(pipeline: Any, settings: CogSettings) -> tuple[int, int]:
    """The canvas the model generates at: its one size if its positional embeddings are
    learned, else the size asked for, else 720×480 or 480×720 by the video's shape."""
    config = pipeline.transformer.config
    if config.use_learned_positional_embeddings:
        scale = pipeline.vae_scale_factor_spatial
        native = (config.sample_width * scale, config.sample_height * scale)
        if settings.gen_size not in (None, native):
            raise EngineError(f"This CogVideoX model generates at {native[0]}×{native[1]} only; leave the generation size unset.")
        return native
    if settings.gen_size:
        return settings.gen_size
    across, down = ASPECT_RATIOS[settings.aspect]
    return LANDSCAPE_SIZE[::-1] if down > across else LANDSCAPE_SIZE


class CogVideoXI2VEngine(DiffusionEngine, VideoEngine):
    name = "cogvideox-i2v"
    label = _("CogVideoX image-to-video")
    description = _("CogVideoX animates the photo as a prompt describes: about 6 seconds. Needs a large GPU.")
    settings_class = CogSettings
    time_limit = 1200
    weights_repo = "THUDM/CogVideoX-5b-I2V"
    portrait_params = {"prompt": PORTRAIT_PROMPT}

    def render(self, image: Image.Image, settings: CogSettings, progress: ProgressCallback) -> Iterator[np.ndarray]:
        from diffusers import CogVideoXImageToVideoPipeline

        # 1. The pipeline, loaded once per worker process (bfloat16: the weights' own type).
        pipeline = load_pipeline(self.name, CogVideoXImageToVideoPipeline, preferred_dtype="bfloat16")

        # 2. The photo in the video's shape, on the canvas the model generates at.
        width, height = generation_size(pipeline, settings)
        conditioning, box = frame_photo(image, settings.aspect, (width, height))

        # 3. Denoise and decode. Out of GPU memory, decode the VAE in tiles and one video at a
        #    time and retry; the next job starts untiled again, so a seed keeps its frames.
        def run() -> np.ndarray:
            return pipeline(
                image=conditioning,
                prompt=settings.prompt,
                width=width,
                height=height,
                num_frames=settings.num_frames,
                num_inference_steps=settings.steps,
                guidance_scale=settings.guidance,
                use_dynamic_cfg=True,
                generator=seeded_generator(settings.seed),
                output_type="np",
                callback_on_step_end=denoising_progress(progress, settings.steps),
                # The transformer's positional embeddings cover exactly this many text tokens.
                max_sequence_length=pipeline.transformer.config.max_text_seq_length,
            ).frames[0]

        def lighten() -> None:
            pipeline.vae.enable_tiling()
            pipeline.vae.enable_slicing()

        try:
            video = run_with_oom_fallback(run, lighten)
        finally:
            pipeline.vae.disable_tiling()
            pipeline.vae.disable_slicing()

        # 4. Back to the photo's box, at the product's size, starting on the photo itself.
        yield from finish_frames(video, box, image, settings, progress)
