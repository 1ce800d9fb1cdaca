"""memorial-portrait-sdxl: a studio memorial portrait from one everyday photo, painted by SDXL
with the person's face given by IP-Adapter Plus Face, on a GPU.

The planning document's Task 1 through diffusers. Its weights folder,
``<GENERATION_MODELS_DIR>/memorial-portrait-sdxl/``, holds:

- an SDXL checkpoint in diffusers' folder format (``model_index.json``, ``unet/``, ``vae/``,
  ``text_encoder/``, ``text_encoder_2/``, the tokenizers and the scheduler): SDXL base
  (``stabilityai/stable-diffusion-xl-base-1.0``, CreativeML Open RAIL++-M, what ``manage.py
  engines download`` fetches) or any SDXL checkpoint, such as the plan's DreamShaper XL Turbo;
- ``ip-adapter/``: IP-Adapter Plus Face for SDXL and its CLIP ViT-H/14 image encoder, as laid
  out in ``h94/IP-Adapter`` (Apache-2.0): ``sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors``
  and ``models/image_encoder/``.

Every part is usable commercially. InstantID and IP-Adapter FaceID would hold the identity more
tightly, but their face-analysis models (InsightFace's antelopev2 and buffalo_l) are licensed for
non-commercial research only; they are an add-on the operator would switch on knowingly
(``GENERATION_PORTRAIT_SDXL_FACEID``), and that add-on is not built yet: switched on, the engine
says so in its readiness rather than quietly running without it.

The render:

1. **The face** (``memorial_portrait.find_face``): the largest person's face; none, and the
   customer gets the CPU portrait's reason. A square about it, with room for hair and chin, is
   IP-Adapter's reference image.
2. **The prompts**: one composition for every portrait (head and shoulders, looking at the
   camera, soft studio light), the attire (a dark suit, a hanbok, or plain clothes) and the
   backdrop (grey, blue, warm brown, white: the CPU portrait's names); the candidates take the
   backdrop chosen, then the others, as the CPU portrait's do, each with its own seed (seed,
   seed + 1, …), all in one batch.
3. **Denoise** at ``gen_height`` (1024 px) in the portrait's shape; out of GPU memory, one
   candidate at a time with the VAE tiled.
4. **For print**: each image enlarged to the portrait's ``height`` (2048 px, twice the
   generation height, by default) with Lanczos, then the restore step's lightness finish
   (sharpening as far as the enlargement left it soft); no second model.
5. **Tone, frame, ribbon**: the CPU portrait's own functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
from django.conf import settings as django_settings
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import IMAGE, POSTER, ImageEngine, ProgressCallback, Readiness
from .memorial_portrait import SHAPES, MemorialPortraitSettings, draw_frame, draw_ribbon, find_face, tone_map
from .restore import lightness_finish, softness_of
from .sdxl import (
    GEN_MULTIPLE,
    IP_ADAPTER_DOWNLOAD,
    SDXL_FILES,
    SDXL_LABELS,
    SDXL_LIMITS,
    SDXL_REPO,
    WEIGHTS_FILES,
    denoise_candidates,
    face_reference,
    load_face_adapter,
    to_uint8,
)
from .torch_runtime import DENOISE_SHARE, load_pipeline, readiness_for

FACEID_NOT_BUILT = (
    "GENERATION_PORTRAIT_SDXL_FACEID is on, but the InstantID / IP-Adapter FaceID add-on is not built yet "
    "(its InsightFace models are for non-commercial use only); turn it off to use IP-Adapter Plus Face"
)

ATTIRES = ("suit", "hanbok", "plain")
ATTIRE_LABELS = {"suit": _("Dark suit"), "hanbok": _("Hanbok"), "plain": _("Plain clothes")}

COMPOSITION = (
    "a dignified memorial studio portrait photograph of the person, head and shoulders, facing and looking at the camera, "
    "calm gentle expression, soft even studio lighting, sharp focus on the eyes, natural skin texture, 85mm lens, high detail"
)
ATTIRE_PROMPTS = {
    "suit": "wearing a dark formal suit, white shirt and dark tie",
    "hanbok": "wearing a traditional Korean hanbok",
    "plain": "wearing simple plain clothes",
}
BACKDROP_PROMPTS = {
    "grey": "plain soft grey studio backdrop with a gentle gradient",
    "blue": "plain blue studio backdrop with a gentle gradient",
    "brown": "plain warm brown studio backdrop with a gentle gradient",
    "white": "plain white studio backdrop, bright and clean",
}
NEGATIVE_PROMPT = (
    "cartoon, painting, illustration, 3d render, anime, deformed, disfigured, asymmetric eyes, extra limbs, blurry, "
    "lowres, jpeg artifacts, watermark, text, logo, busy background, props, harsh shadows, laughing, open mouth, "
    "looking away, tilted head, sunglasses, hat"
)
BACKDROP_NEGATIVES = {
    "grey": "colourful background",
    "blue": "grey background, white background",
    "brown": "grey background, blue background",
    "white": "dark background, shadows on the backdrop",
}
ATTIRE_NEGATIVES = {"suit": "casual clothes, hanbok", "hanbok": "suit, tie, western clothes", "plain": "suit, costume"}

@dataclass(frozen=True)
class PortraitSdxlSettings(MemorialPortraitSettings):
    """The CPU portrait's knobs (shape, backdrop, tone, ribbon, frame, count, and ``height``, the
    printed portrait's), the attire, and the model's: denoising steps, prompt guidance, how
    strongly the face reference steers (``face_strength``, IP-Adapter's scale) and the height it
    generates at (``gen_height``; small values keep tests with tiny models fast).

    The steps and guidance default to the operator's settings for the checkpoint in the models
    folder (GENERATION_PORTRAIT_SDXL_STEPS / _GUIDANCE): 30 at 6.0 for SDXL base, which
    ``engines download`` fetches; 8 at 2.0 for a turbo checkpoint such as the plan's DreamShaper
    XL Turbo, which is distilled for 4–8 steps at guidance about 2."""

    height: int = 2048  # twice the generation height: a 20 × 25 cm print at 200 dpi
    attire: str = "suit"
    steps: int = field(default_factory=lambda: django_settings.GENERATION_PORTRAIT_SDXL_STEPS)
    guidance: float = field(default_factory=lambda: django_settings.GENERATION_PORTRAIT_SDXL_GUIDANCE)
    face_strength: float = 0.7
    gen_height: int = 1024

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **MemorialPortraitSettings.LIMITS,
        **SDXL_LIMITS,
        "height": (512, 4096),
        "gen_height": (64, 1536),
    }
    LABELS: ClassVar[dict[str, str]] = {
        **MemorialPortraitSettings.LABELS,
        **SDXL_LABELS,
        "attire": _("Attire"),
        "gen_height": _("Generation height"),
    }
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("backdrop", "tone", "ribbon", "attire", "count")
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {**MemorialPortraitSettings.CHOICES, "attire": ATTIRES}

    @property
    def gen_size(self) -> tuple[int, int]:
        """(width, height) the model generates at: ``gen_height`` tall in the portrait's shape,
        both multiples of 8."""
        aw, ah = SHAPES[self.shape]
        height = self.gen_height - self.gen_height % GEN_MULTIPLE
        return max(GEN_MULTIPLE, round(height * aw / ah / GEN_MULTIPLE) * GEN_MULTIPLE), height


def prompts(backdrop: str, attire: str) -> tuple[str, str]:
    """The prompt and the negative prompt for one candidate."""
    prompt = f"{COMPOSITION}, {ATTIRE_PROMPTS[attire]}, {BACKDROP_PROMPTS[backdrop]}"
    return prompt, f"{NEGATIVE_PROMPT}, {ATTIRE_NEGATIVES[attire]}, {BACKDROP_NEGATIVES[backdrop]}"


def for_print(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The generated image enlarged to ``size`` with Lanczos, then the restore step's lightness
    finish, sharpening as far as the enlargement left it soft (float32 RGB out)."""
    enlarged = cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4) if image.shape[1::-1] != size else image
    softness = softness_of(cv2.cvtColor(enlarged, cv2.COLOR_RGB2GRAY))
    return lightness_finish(enlarged, softness=softness).astype(np.float32)


class SdxlWithFaceAdapter:
    """What ``load_pipeline`` loads: the SDXL checkpoint, with IP-Adapter Plus Face and its image
    encoder loaded into it from the same folder."""

    @staticmethod
    def from_pretrained(folder: Path, **options: Any) -> Any:
        from diffusers import StableDiffusionXLPipeline

        return load_face_adapter(StableDiffusionXLPipeline.from_pretrained(folder, **options), folder)


class MemorialPortraitSdxlEngine(ImageEngine):
    name = "memorial-portrait-sdxl"
    label = _("Memorial portrait (AI studio)")
    description = _(
        "A studio memorial portrait painted by an AI model from one everyday photo: the face kept from the photo, "
        "head and shoulders in a suit, a hanbok or plain clothes, on a studio backdrop. Several to choose from. Needs a GPU."
    )
    queue = "gpu"
    settings_class = PortraitSdxlSettings
    makes = (IMAGE, POSTER)
    time_limit = 900
    weights_repo = SDXL_REPO
    weights_allow = SDXL_FILES
    extra_weights = (IP_ADAPTER_DOWNLOAD,)

    def readiness(self) -> Readiness:
        readiness = readiness_for(self.name, needs=WEIGHTS_FILES)
        if readiness.ready and django_settings.GENERATION_PORTRAIT_SDXL_FACEID:
            return Readiness(False, FACEID_NOT_BUILT)
        return readiness

    def render_images(self, photos: list[Image.Image], settings: PortraitSdxlSettings, progress: ProgressCallback) -> list[Image.Image]:
        # 1. The face, and the square about it that IP-Adapter looks at.
        photo = photos[0].convert("RGB")
        reference = face_reference(photo, find_face(np.asarray(photo)))

        # 2. The pipeline, loaded once per worker process, and the candidates' prompts and seeds.
        pipeline = load_pipeline(self.name, SdxlWithFaceAdapter, preferred_dtype="float16")
        pipeline.set_ip_adapter_scale(settings.face_strength)
        width, height = settings.gen_size
        candidates = [(*prompts(backdrop, settings.attire), settings.seed + number) for number, backdrop in enumerate(settings.backdrops)]

        # 3. Denoise and decode, all candidates in one batch (one at a time, out of GPU memory).
        generated = denoise_candidates(
            pipeline, candidates, progress, ip_adapter_image=reference, width=width, height=height,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance,
        )

        # 4.–5. For print, then the tone, the frame and the ribbon.
        portraits = []
        for number, image in enumerate(generated, start=1):
            portrait = tone_map(for_print(to_uint8(image), settings.size), settings.tone)
            if settings.frame:
                portrait = draw_frame(portrait)
            if settings.ribbon:
                portrait = draw_ribbon(portrait)
            portraits.append(Image.fromarray(np.clip(np.round(portrait), 0, 255).astype(np.uint8)))
            progress(DENOISE_SHARE + (1 - DENOISE_SHARE) * number / len(generated))
        return portraits

