"""pastime-images: pictures of a person doing what they loved (singing on a stage, fishing at a
lake, hiking…), painted by SDXL from up to three everyday photos of them, on a GPU.

Its weights folder, ``<GENERATION_MODELS_DIR>/pastime-images/``, holds what every SDXL engine's
does (``generation.engines.sdxl``: an SDXL checkpoint in diffusers' format, and IP-Adapter Plus
Face with its CLIP ViT-H/14 image encoder under ``ip-adapter/``) and, optionally,
``controlnet-pose/``: an OpenPose ControlNet for SDXL in diffusers' format
(``xinsir/controlnet-openpose-sdxl-1.0``, Apache-2.0, what ``manage.py engines download``
fetches). Every part is usable commercially; nothing of InsightFace's is used.

The engine reads no database. A job's settings carry the pastime as it was in the catalogue
(``generation.models.Pastime``) when the job was made: its slug, prompt and negative prompt, and
the name in storage of its pose reference, if it has one.

The render:

1. **The faces**: in each photo, the largest person's face and the square about it
   (``sdxl.face_reference``); photos where none is found are left out, and with none at all the
   customer gets the CPU portrait's reason. The squares go to IP-Adapter together, as several
   references to one adapter: their image tokens are put side by side, so each denoising step
   attends to every photo of the person.
2. **The pose**: the pastime's pose reference, an OpenPose skeleton picture (coloured limbs on
   black) as the operator uploaded it, fitted into the image on black. It is used as given: no
   pose estimator runs here (its weights are not available offline). Without ControlNet weights,
   or without a pose reference, the prompt alone sets the scene.
3. **Denoise** the pictures, seeds seed, seed + 1…, in one batch, 1024² pixels in the shape asked for;
   out of GPU memory, one at a time with the VAE tiled.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.core.files.storage import default_storage
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from . import sdxl
from .base import ASPECT_RATIOS, IMAGE, POSTER, EngineError, EngineSettings, ImageEngine, InvalidSettings, ProgressCallback, Readiness
from .faces import PERSON, detect_faces
from .memorial_portrait import NO_FACE
from .torch_runtime import DENOISE_SHARE, load_pipeline, readiness_for

logger = logging.getLogger(__name__)

CONTROLNET_FOLDER = "controlnet-pose"  # in the engine's weights folder; optional
CONTROLNET_REPO = "xinsir/controlnet-openpose-sdxl-1.0"
CONTROLNET_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
# Stored in English, shown translated.
POSE_GONE = gettext_noop("This pastime's pose picture is no longer available. Please make the pictures again.")


@dataclass(frozen=True)
class PastimeSettings(EngineSettings):
    """The pastime (its slug, prompt, negative prompt and pose reference, copied from the
    catalogue when the job is made), how many pictures (``count``), their shape and size, and the
    model's knobs: denoising steps and prompt guidance (SDXL base's: about 30 steps at 5–7), how
    strongly the photos steer the face (``face_strength``, IP-Adapter's scale) and the pose the
    figure (``pose_strength``, the ControlNet's scale)."""

    height: int = 1024
    pastime: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    pose: str = ""  # the pose reference's name in the default storage; empty for none
    count: int = 4
    steps: int = 30
    guidance: float = 6.0
    face_strength: float = 0.6
    pose_strength: float = 0.8

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **EngineSettings.LIMITS,
        "height": (64, 1536),  # the size it generates at; small values keep tests with tiny models fast
        **sdxl.SDXL_LIMITS,
        "count": (3, 4),
        "pose_strength": (0, 2),
    }
    LABELS: ClassVar[dict[str, str]] = {
        **EngineSettings.LABELS,
        "pastime": _("Pastime"),
        **sdxl.SDXL_LABELS,
        "count": _("Pictures"),
        "pose_strength": _("Pose strength"),
    }
    # The pastime is chosen from the catalogue (its slug; the prompts are copied in when the job
    # is made), with the frame shape and how many pictures.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "pastime", "count")

    def __post_init__(self):
        super().__post_init__()
        if not (self.pastime and self.prompt):
            raise InvalidSettings(gettext("Choose a pastime."), field="pastime")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in the aspect ratio, of as many pixels as a square ``height`` tall (SDXL
        is trained at about 1024² pixels in every shape), both multiples of 8."""
        aw, ah = ASPECT_RATIOS[self.aspect]
        scale = self.height / math.sqrt(aw * ah)
        width, height = (max(sdxl.GEN_MULTIPLE, round(side * scale / sdxl.GEN_MULTIPLE) * sdxl.GEN_MULTIPLE) for side in (aw, ah))
        return width, height


def face_references(photos: list[Image.Image]) -> list[Image.Image]:
    """The square about the largest person's face in each photo that shows one, in order."""
    references = []
    for photo in photos:
        people = [face for face in detect_faces(photo) if face.kind == PERSON]
        if people:
            references.append(sdxl.face_reference(photo, people[0]))
    if not references:
        raise EngineError(str(NO_FACE))
    return references


def pose_image(name: str, size: tuple[int, int]) -> Image.Image:
    """The pose reference stored as ``name``, fitted into ``size`` on black (a skeleton picture's
    background), so the figure keeps its proportions."""
    try:
        with default_storage.open(name, "rb") as handle, Image.open(handle) as image:
            pose = image.convert("RGB")
    except OSError:  # gone from storage (FileNotFoundError), or not a picture
        logger.warning("The pose reference %s cannot be read", name, exc_info=True)
        raise EngineError(POSE_GONE) from None
    return ImageOps.pad(pose, size, Image.Resampling.LANCZOS, color=(0, 0, 0))


class SdxlWithPoseAndFaces:
    """What ``load_pipeline`` loads: the SDXL checkpoint with IP-Adapter Plus Face, and the pose
    ControlNet when its weights are there (an SDXL ControlNet pipeline then)."""

    @staticmethod
    def from_pretrained(folder: Path, **options: Any) -> Any:
        from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline, StableDiffusionXLPipeline

        controlnet = Path(folder) / CONTROLNET_FOLDER
        if (controlnet / "config.json").is_file():
            pipeline = StableDiffusionXLControlNetPipeline.from_pretrained(
                folder, controlnet=ControlNetModel.from_pretrained(controlnet, **options), **options,
            )
        else:
            pipeline = StableDiffusionXLPipeline.from_pretrained(folder, **options)
        return sdxl.load_face_adapter(pipeline, folder)


def without_controlnet(pipeline: Any) -> Any:
    """The pipeline itself, or for a ControlNet pipeline, an SDXL pipeline on the same loaded
    models (no second copy), for pictures without a pose."""
    from diffusers import StableDiffusionXLPipeline

    if getattr(pipeline, "controlnet", None) is None:
        return pipeline
    # In the loaded models' dtype: from_pipe casts every model to float32 unless told.
    plain = StableDiffusionXLPipeline.from_pipe(pipeline, dtype=pipeline.dtype)
    plain.set_progress_bar_config(disable=True)
    return plain


class PastimeImagesEngine(ImageEngine):
    name = "pastime-images"
    label = _("Pastime pictures (AI)")
    description = _(
        "Realistic pictures of the person doing what they loved (singing, fishing, hiking, golf…), painted by an AI model "
        "from up to three everyday photos of them. Several to choose from. Needs a GPU."
    )
    queue = "gpu"
    settings_class = PastimeSettings
    photos = (1, 3)
    makes = (IMAGE, POSTER)
    time_limit = 900
    weights_repo = sdxl.SDXL_REPO
    weights_allow = sdxl.SDXL_FILES
    extra_weights = (sdxl.IP_ADAPTER_DOWNLOAD, (CONTROLNET_REPO, CONTROLNET_FILES, CONTROLNET_FOLDER))

    def readiness(self) -> Readiness:
        # The pose ControlNet is optional: without it the prompt alone sets the scene.
        return readiness_for(self.name, needs=sdxl.WEIGHTS_FILES)

    def render_images(self, photos: list[Image.Image], settings: PastimeSettings, progress: ProgressCallback) -> list[Image.Image]:
        # 1. The faces, every photo's, as IP-Adapter's references.
        references = face_references([photo.convert("RGB") for photo in photos])

        # 2. The pipeline, loaded once per worker process, and the pose, when both are there.
        pipeline = load_pipeline(self.name, SdxlWithPoseAndFaces, preferred_dtype="float16")
        pipeline.set_ip_adapter_scale(settings.face_strength)
        width, height = settings.size
        options: dict[str, Any] = {}
        if settings.pose and getattr(pipeline, "controlnet", None) is not None:
            options = {"image": pose_image(settings.pose, (width, height)), "controlnet_conditioning_scale": settings.pose_strength}
        else:
            if settings.pose:
                logger.info("No pose ControlNet in the weights folder: %s's pose reference is not used", settings.pastime)
            pipeline = without_controlnet(pipeline)

        # 3. Denoise and decode, all pictures in one batch (one at a time, out of GPU memory).
        candidates = [(settings.prompt, settings.negative_prompt, settings.seed + number) for number in range(settings.count)]
        generated = sdxl.denoise_candidates(
            pipeline, candidates, progress, ip_adapter_image=[references], width=width, height=height,
            num_inference_steps=settings.steps, guidance_scale=settings.guidance, **options,
        )
        pictures = []
        for number, image in enumerate(generated, start=1):
            pictures.append(Image.fromarray(sdxl.to_uint8(image)))
            progress(DENOISE_SHARE + (1 - DENOISE_SHARE) * number / len(generated))
        return pictures
