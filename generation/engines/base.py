"""The small interface every engine implements.

An engine turns one photo into a sequence of RGB frames. Encoding, storage and job state
live elsewhere (``generation.media``, ``generation.rendering``, ``generation.services``), so
an engine can be run from a job, from ``manage.py animate`` or from a benchmark alike.

Each engine names the settings class it takes: ``RenderSettings`` holds the knobs every
engine shares (frame shape, size, length, motion, loop, seed); an engine with knobs of its own
subclasses it and widens or narrows ``LIMITS``. Settings validate themselves on creation, so a
knob out of range is refused with its allowed range before anything is stored or queued.
"""
from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from django.utils.translation import gettext
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
class RenderSettings:
    aspect: str = "1:1"
    height: int = 720
    seconds: float = 4.0
    fps: int = 24
    motion: int = 127
    loop: bool = True
    seed: int = 0

    # (lowest, highest) allowed for each numeric knob; subclasses override what differs.
    LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        "height": (128, 2160),
        "seconds": (2, 10),
        "fps": (12, 30),
        "motion": (0, 255),
        "seed": (0, 2**32 - 1),
    }
    LABELS: ClassVar[dict[str, str]] = {
        "aspect": _("Aspect ratio"),
        "height": _("Height"),
        "seconds": _("Duration"),
        "fps": _("Frame rate"),
        "motion": _("Motion strength"),
        "seed": _("Seed"),
    }
    # The knobs a customer sets on the upload form: it shows these and sends no others. The
    # rest (seed, steps…) keep their defaults or are set by staff through `manage.py animate`.
    FORM_KNOBS: ClassVar[tuple[str, ...]] = ("aspect", "height", "seconds", "fps", "motion", "loop")
    # Written right after the number, as in "between 2 and 10 seconds".
    UNITS: ClassVar[dict[str, str]] = {"height": _(" pixels"), "seconds": _(" seconds"), "fps": _(" fps")}

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
    def from_params(cls, params: dict[str, Any]) -> RenderSettings:
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

    @property
    def frame_count(self) -> int:
        return max(2, round(self.seconds * self.fps))


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""


class Engine(abc.ABC):
    name: str
    label: str
    description: str
    queue: str  # the Celery queue whose workers can run it: "cpu" or "gpu"
    settings_class: type[RenderSettings] = RenderSettings
    # Seconds a job of this engine may run before the worker stops it (soft limit).
    time_limit: int = 600
    # The model hub repository `manage.py engines download` fetches the weights from; empty
    # for an engine that needs no weights.
    weights_repo: str = ""

    def readiness(self) -> Readiness:
        return Readiness(True)

    def settings(self, params: dict[str, Any]) -> RenderSettings:
        return self.settings_class.from_params(params)

    @abc.abstractmethod
    def render(
        self, image: Image.Image, settings: RenderSettings, progress: ProgressCallback
    ) -> Iterator[np.ndarray]:
        """Yield ``settings.frame_count`` frames as (height, width, 3) uint8 arrays, the first
        of them the photo itself (cropped to the frame)."""


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
