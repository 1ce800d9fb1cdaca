"""What the SDXL engines (memorial-portrait-sdxl, pastime-images) share: the checkpoint's files
and where they come from, IP-Adapter Plus Face with its CLIP ViT-H/14 image encoder, the square
about a face that the adapter looks at, and denoising a batch of candidates.

Each engine's weights folder, ``<GENERATION_MODELS_DIR>/<engine>/``, holds an SDXL checkpoint in
diffusers' folder format (SDXL base, ``stabilityai/stable-diffusion-xl-base-1.0``, CreativeML
Open RAIL++-M, is what ``manage.py engines download`` fetches) and ``ip-adapter/``, laid out as
``h94/IP-Adapter`` (Apache-2.0) is: ``sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors``
and ``models/image_encoder/``. Every part is usable commercially.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext_lazy as _
from PIL import Image

from .base import ProgressCallback
from .faces import Face
from .torch_runtime import DENOISE_SHARE, denoising_progress, run_with_oom_fallback, seeded_generator

SDXL_REPO = "stabilityai/stable-diffusion-xl-base-1.0"
# Its diffusers folders only: the repository also holds single-file and ONNX copies.
SDXL_FILES = (
    "model_index.json", "scheduler/*", "tokenizer/*", "tokenizer_2/*",
    *(f"{part}/{name}" for part in ("text_encoder", "text_encoder_2") for name in ("config.json", "model.safetensors")),
    *(f"{part}/{name}" for part in ("unet", "vae") for name in ("config.json", "diffusion_pytorch_model.safetensors")),
)

IP_ADAPTER_FOLDER = "ip-adapter"  # in the engine's weights folder, laid out as h94/IP-Adapter is
IP_ADAPTER_SUBFOLDER = "sdxl_models"
IP_ADAPTER_WEIGHTS = "ip-adapter-plus-face_sdxl_vit-h.safetensors"
IMAGE_ENCODER_FOLDER = "models/image_encoder"
# (repository, the files, the folder under the engine's weights folder), as Engine.extra_weights.
IP_ADAPTER_DOWNLOAD = (
    "h94/IP-Adapter",
    (f"{IP_ADAPTER_SUBFOLDER}/{IP_ADAPTER_WEIGHTS}", f"{IMAGE_ENCODER_FOLDER}/config.json", f"{IMAGE_ENCODER_FOLDER}/model.safetensors"),
    IP_ADAPTER_FOLDER,
)
# The files readiness checks, each under the engine's weights folder: the checkpoint, then the adapter.
WEIGHTS_FILES = (
    "model_index.json",
    f"{IP_ADAPTER_FOLDER}/{IP_ADAPTER_SUBFOLDER}/{IP_ADAPTER_WEIGHTS}",
    f"{IP_ADAPTER_FOLDER}/{IMAGE_ENCODER_FOLDER}/config.json",
    f"{IP_ADAPTER_FOLDER}/{IMAGE_ENCODER_FOLDER}/model.safetensors",
)

# The model's knobs every SDXL engine's settings have: denoising steps, prompt guidance, and how
# strongly the face reference steers (IP-Adapter's scale); each settings class adds these to its own.
SDXL_LIMITS: dict[str, tuple[float, float]] = {"steps": (1, 100), "guidance": (1, 20), "face_strength": (0, 1.5)}
SDXL_LABELS = {"steps": _("Denoising steps"), "guidance": _("Prompt guidance"), "face_strength": _("Face likeness")}

# The face and as much again around it: hair, ears and chin, as IP-Adapter Plus Face was trained on.
FACE_CROP = 1.8
GEN_MULTIPLE = 8  # the VAE's downscaling


def face_reference(photo: Image.Image, face: Face) -> Image.Image:
    """A square of the photo about the face, FACE_CROP times its size, kept inside the photo."""
    side = min(round(FACE_CROP * max(face.w, face.h)), photo.width, photo.height)
    cx, cy = face.centre
    left = min(max(round(cx - side / 2), 0), photo.width - side)
    top = min(max(round(cy - side / 2), 0), photo.height - side)
    return photo.crop((left, top, left + side, top + side))


def load_face_adapter(pipeline: Any, folder: Path) -> Any:
    """``pipeline`` with IP-Adapter Plus Face and its image encoder loaded into it from the
    engine's weights ``folder``. Called before ``optimize_pipeline``, which fuses the attention
    projections that the adapter's processors then leave alone."""
    pipeline.load_ip_adapter(
        str(Path(folder) / IP_ADAPTER_FOLDER),
        subfolder=IP_ADAPTER_SUBFOLDER,
        weight_name=IP_ADAPTER_WEIGHTS,
        image_encoder_folder=IMAGE_ENCODER_FOLDER,
        local_files_only=True,
    )
    return pipeline


def denoise_candidates(
    pipeline: Any, candidates: list[tuple[str, str, int]], progress: ProgressCallback, **options: Any
) -> list[np.ndarray]:
    """Each candidate, (prompt, negative prompt, seed), denoised and decoded by ``pipeline`` with
    its other ``options`` (``num_inference_steps`` among them), all in one batch; out of GPU
    memory, one at a time with the VAE tiled, and the next job starts untiled again. Float RGB
    arrays in [0, 1], in the candidates' order; denoising is the first DENOISE_SHARE of ``progress``."""
    batch = len(candidates)
    steps = options["num_inference_steps"]

    def chunk_progress(done: int, size: int) -> Callable[[float], None]:
        return lambda fraction: progress((DENOISE_SHARE * done + fraction * size) / len(candidates))

    def run() -> list[np.ndarray]:
        images = []
        for start in range(0, len(candidates), batch):
            chunk = candidates[start:start + batch]
            images.extend(pipeline(
                prompt=[prompt for prompt, _negative, _seed in chunk],
                negative_prompt=[negative for _prompt, negative, _seed in chunk],
                generator=[seeded_generator(seed) for _prompt, _negative, seed in chunk],
                output_type="np",
                callback_on_step_end=denoising_progress(chunk_progress(start, len(chunk)), steps),
                **options,
            ).images)
        return images

    def lighten() -> None:
        nonlocal batch
        batch = 1
        pipeline.vae.enable_tiling()

    try:
        return run_with_oom_fallback(run, lighten)
    finally:
        pipeline.vae.disable_tiling()


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A pipeline's float image in [0, 1] as 8-bit RGB."""
    return np.rint(image * 255).clip(0, 255).astype(np.uint8)
