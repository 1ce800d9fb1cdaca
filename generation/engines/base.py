"""The small interface every engine implements.

An engine turns one photo into a sequence of RGB frames. Encoding, storage and job state
live elsewhere (``generation.media``, ``generation.rendering``, ``generation.services``), so
an engine can be run from a job, from ``manage.py animate`` or from a benchmark alike.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "1:1": (1, 1),
}
MIN_HEIGHT, MAX_HEIGHT = 128, 2160
MIN_SECONDS, MAX_SECONDS = 1.0, 10.0
MIN_FPS, MAX_FPS = 6, 30

ProgressCallback = Callable[[float], None]


class EngineError(Exception):
    """A reason an engine cannot make a video, worded for the customer."""


class InvalidSettings(EngineError, ValueError):
    """A knob is out of range; the message says the allowed range."""


@dataclass(frozen=True)
class RenderSettings:
    aspect: str = "1:1"
    height: int = 720
    seconds: float = 4.0
    fps: int = 24
    loop: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.aspect not in ASPECT_RATIOS:
            raise InvalidSettings(f"Aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.")
        if not MIN_HEIGHT <= self.height <= MAX_HEIGHT:
            raise InvalidSettings(f"Height must be between {MIN_HEIGHT} and {MAX_HEIGHT} pixels.")
        if not MIN_SECONDS <= self.seconds <= MAX_SECONDS:
            raise InvalidSettings(f"Duration must be between {MIN_SECONDS:g} and {MAX_SECONDS:g} seconds.")
        if not MIN_FPS <= self.fps <= MAX_FPS:
            raise InvalidSettings(f"Frame rate must be between {MIN_FPS} and {MAX_FPS} fps.")

    @classmethod
    def from_params(cls, params: dict) -> RenderSettings:
        """Build settings from a job's stored params, ignoring keys that are not knobs."""
        known = {name: params[name] for name in cls.__dataclass_fields__ if name in params}
        return cls(**known)

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

    def readiness(self) -> Readiness:
        return Readiness(True)

    @abc.abstractmethod
    def render(
        self, image: Image.Image, settings: RenderSettings, progress: ProgressCallback
    ) -> Iterator[np.ndarray]:
        """Yield ``settings.frame_count`` frames as (height, width, 3) uint8 arrays."""


def crop_to_aspect(image: Image.Image, aspect: str) -> tuple[float, float, float, float]:
    """The largest centred box of ``image`` with the given aspect ratio, as (left, top, right, bottom)."""
    aw, ah = ASPECT_RATIOS[aspect]
    w, h = image.size
    if w * ah > h * aw:  # too wide: trim the sides
        cw, ch = h * aw / ah, h
    else:
        cw, ch = w, w * ah / aw
    left, top = (w - cw) / 2, (h - ch) / 2
    return left, top, left + cw, top + ch
