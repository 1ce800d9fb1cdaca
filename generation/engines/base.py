"""The small interface every engine implements.

An engine takes one or more photos and makes outputs of a kind: a video engine
(``VideoEngine``) turns one photo into a sequence of RGB frames, which become a video (MP4), an
animation (GIF) and a poster; an image engine (``ImageEngine``) turns its photos into still
images (PNG or JPEG). Each engine declares how many photos it takes (``photos``) and what it
makes (``makes``). Encoding, storage and job state live elsewhere (``generation.media``,
``generation.rendering``, ``generation.services``), so an engine can be run from a job, from
``manage.py animate`` or from a benchmark alike.

Each engine names the settings class it takes: ``EngineSettings`` holds the knobs every engine
shares (frame shape, size, seed), ``RenderSettings`` adds a video's (length, frame rate,
motion, loop); an engine with knobs of its own subclasses one and widens or narrows
``LIMITS``. Settings validate themselves on creation, so a knob out of range is refused with
its allowed range before anything is stored or queued.
"""
from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "1:1": (1, 1),
}

ProgressCallback = Callable[[float], None]

# The kinds of output an engine makes (a job's outputs carry one each).
VIDEO = "video"  # MP4, H.264
ANIMATION = "animation"  # a looping GIF of the video
POSTER = "poster"  # a JPEG of the video's first frame
IMAGE = "image"  # a still, PNG or JPEG
OUTPUT_KINDS = (VIDEO, ANIMATION, POSTER, IMAGE)


class EngineError(Exception):
    """A reason an engine cannot make a video, worded for the customer."""


class EngineNotReady(EngineError):
    """The engine cannot run here now (no weights, no GPU); the message says why."""


class InvalidSettings(EngineError, ValueError):
    """A knob is out of range or of the wrong type; the message says what is allowed."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class EngineSettings:
    """The knobs every engine has: the frame's shape and height, and the random seed."""

    aspect: str = "1:1"
    height: int = 720
    seed: int = 0

    # (lowest, highest) allowed for each numeric knob; subclasses override what differs.
    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        "height": (128, 2160),
        "seed": (0, 2**32 - 1),
    }
    LABELS: ClassVar[dict[str, str]] = {
        "aspect": _("Aspect ratio"),
        "height": _("Height"),
        "seed": _("Seed"),
    }
    # The knobs a customer sets on the upload form: it shows these and sends no others. The
    # rest (seed, steps…) keep their defaults or are set by staff through `manage.py animate`.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "height")
    # Written right after the number, as in "between 2 and 10 seconds".
    UNITS: ClassVar[dict[str, str]] = {"height": _(" pixels")}

    def __post_init__(self):
        if self.aspect not in ASPECT_RATIOS:
            raise InvalidSettings(gettext("Aspect ratio must be one of %(allowed)s.") % {"allowed": ", ".join(ASPECT_RATIOS)}, field="aspect")
        for name, (low, high) in self.LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                label = self.LABELS.get(name, name.replace("_", " ").capitalize())
                raise InvalidSettings(
                    gettext("%(knob)s must be between %(low)s and %(high)s%(unit)s.")
                    % {"knob": label, "low": f"{low:g}", "high": f"{high:g}", "unit": self.UNITS.get(name, "")},
                    field=name,
                )

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> EngineSettings:
        """Build settings from a job's stored params or a form, coercing each known knob to its
        type and ignoring keys that are not knobs."""
        values = {}
        for field in dataclasses.fields(cls):
            if field.name not in params or params[field.name] is None:
                continue
            raw, kind = params[field.name], field.type if isinstance(field.type, str) else field.type.__name__
            try:
                if kind == "bool":
                    values[field.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "on", "yes")
                elif kind == "int":
                    values[field.name] = int(raw)
                elif kind == "float":
                    values[field.name] = float(raw)
                else:
                    values[field.name] = str(raw)
            except (TypeError, ValueError):
                label = cls.LABELS.get(field.name, field.name.replace("_", " ").capitalize())
                raise InvalidSettings(gettext("%(knob)s must be a number.") % {"knob": label}, field=field.name) from None
        return cls(**values)

    def as_params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, both even as H.264 with yuv420p requires."""
        aw, ah = ASPECT_RATIOS[self.aspect]
        height = self.height - self.height % 2
        width = round(height * aw / ah / 2) * 2
        return width, height


@dataclass(frozen=True)
class RenderSettings(EngineSettings):
    """A video's knobs: its length, frame rate, how much moves, and whether it loops."""

    seconds: float = 4.0
    fps: int = 24
    motion: int = 127
    loop: bool = True

    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        **EngineSettings.LIMITS,
        "seconds": (2, 10),
        "fps": (12, 30),
        "motion": (0, 255),
    }
    LABELS: ClassVar[dict[str, str]] = {
        **EngineSettings.LABELS,
        "seconds": _("Duration"),
        "fps": _("Frame rate"),
        "motion": _("Motion strength"),
    }
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "height", "seconds", "fps", "motion", "loop")
    UNITS: ClassVar[dict[str, str]] = {**EngineSettings.UNITS, "seconds": _(" seconds"), "fps": _(" fps")}

    @property
    def frame_count(self) -> int:
        return max(2, round(self.seconds * self.fps))


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""


class Engine(abc.ABC):
    """What every engine has; an engine subclasses VideoEngine or ImageEngine."""

    name: str
    label: str
    description: str
    queue: str  # the Celery queue whose workers can run it: "cpu" or "gpu"
    settings_class: type[EngineSettings] = RenderSettings
    # How many photos a job of this engine takes: (fewest, most), in the order given.
    photos: tuple[int, int] = (1, 1)
    # The kinds of output it makes, in the order a job lists them (OUTPUT_KINDS).
    makes: tuple[str, ...] = ()
    # Seconds a job of this engine may run before the worker stops it (soft limit).
    time_limit: int = 600
    # The model hub repository `manage.py engines download` fetches the weights from; empty
    # for an engine that needs no weights. They go to <GENERATION_MODELS_DIR>/<weights_folder>,
    # the engine's name unless it uses another engine's weights.
    weights_repo: str = ""
    weights_folder: str = ""
    # The files of ``weights_repo`` to fetch (glob patterns; all of them when empty), and the
    # other repositories an engine's weights take, each (repository, its files, the subfolder of
    # the weights folder they go to).
    weights_allow: tuple[str, ...] = ()
    extra_weights: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def readiness(self) -> Readiness:
        return Readiness(True)

    @property
    def before_and_after(self) -> bool:
        """Whether what it makes is the photo itself made over (restored, colorized), to be
        shown against the photo: one photo in, one image out."""
        return False

    def settings(self, params: dict[str, Any]) -> EngineSettings:
        return self.settings_class.from_params(params)

    def photos_check(self, count: int) -> None:
        """Raise InvalidSettings unless a job of this engine may take ``count`` photos."""
        fewest, most = self.photos
        if fewest <= count <= most:
            return
        if fewest == most:
            message = ngettext("%(engine)s takes %(count)d photo.", "%(engine)s takes %(count)d photos.", fewest) % {
                "engine": self.label, "count": fewest,
            }
        else:
            message = gettext("%(engine)s takes between %(fewest)d and %(most)d photos.") % {
                "engine": self.label, "fewest": fewest, "most": most,
            }
        raise InvalidSettings(message, field="photo")


class VideoEngine(Engine):
    """Turns one photo into frames; a job keeps them as a video, an animation and a poster."""

    makes = (VIDEO, ANIMATION, POSTER)
    # The knobs that bring a formal portrait of a person to life with dignity: a calm face,
    # slight movement, the camera still; what a memorial's "bring it to life" asks of the
    # engine. An engine whose defaults already do that keeps this empty.
    portrait_params: ClassVar[dict[str, object]] = {}

    @abc.abstractmethod
    def render(
        self, image: Image.Image, settings: RenderSettings, progress: ProgressCallback
    ) -> Iterator[np.ndarray]:
        """Yield ``settings.frame_count`` frames as (height, width, 3) uint8 arrays, the first
        of them the photo itself (cropped to the frame)."""


class ImageEngine(Engine):
    """Turns its photos into still images, kept as PNG (or JPEG: ``image_format``). One whose
    ``makes`` includes POSTER also keeps a JPEG of its first image, for sharing and galleries."""

    makes: tuple[str, ...] = (IMAGE,)
    settings_class = EngineSettings
    image_format = "PNG"

    @property
    def before_and_after(self) -> bool:
        return self.photos == (1, 1) and self.makes.count(IMAGE) == 1

    @abc.abstractmethod
    def render_images(
        self, photos: list[Image.Image], settings: EngineSettings, progress: ProgressCallback
    ) -> list[Image.Image]:
        """The images made from ``photos`` (RGB, in the order given), in the order a job keeps
        them."""


def crop_to_aspect(
    image: Image.Image, aspect: str, focus: tuple[float, float] | None = None
) -> tuple[float, float, float, float]:
    """The largest box of ``image`` with the given aspect ratio, as (left, top, right, bottom),
    centred on ``focus`` (the middle of the photo by default) as far as the edges allow."""
    aw, ah = ASPECT_RATIOS[aspect]
    w, h = image.size
    cw, ch = (h * aw / ah, h) if w * ah > h * aw else (w, w * ah / aw)
    fx, fy = focus if focus is not None else (w / 2, h / 2)
    left = min(max(fx - cw / 2, 0.0), w - cw)
    top = min(max(fy - ch / 2, 0.0), h - ch)
    return left, top, left + cw, top + ch
