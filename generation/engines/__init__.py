"""The engine registry: every engine the product offers, by name.

The built-in engines come first; ``GENERATION_EXTRA_ENGINES`` adds engines of the operator's
(dotted paths to Engine subclasses, each instantiated once), for the web and the worker
processes alike. A test registers a test-only engine the same way.
"""
import functools

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from .base import (
    ANIMATION,
    IMAGE,
    OUTPUT_KINDS,
    POSTER,
    VIDEO,
    Engine,
    EngineError,
    EngineNotReady,
    EngineSettings,
    ImageEngine,
    InvalidSettings,
    Readiness,
    RenderSettings,
    VideoEngine,
)
from .cogvideox_i2v import CogVideoXI2VEngine
from .colorize import ColorizeEngine, RestoreColorizeEngine
from .living_photo import LivingPhotoEngine
from .memorial_portrait import MemorialPortraitEngine
from .pastime_images import PastimeImagesEngine
from .portrait_sdxl import MemorialPortraitSdxlEngine
from .restore import RestoreEngine
from .svd_xt import SvdXtEngine

# living-photo first: it is the default, and it runs anywhere.
_BUILT_IN: tuple[Engine, ...] = (
    LivingPhotoEngine(), RestoreEngine(), ColorizeEngine(), RestoreColorizeEngine(), MemorialPortraitEngine(), SvdXtEngine(),
    CogVideoXI2VEngine(), MemorialPortraitSdxlEngine(), PastimeImagesEngine(),
)


class UnknownEngine(EngineError):
    pass


@functools.cache
def _registry(extra: tuple[str, ...]) -> dict[str, Engine]:
    engines = {engine.name: engine for engine in _BUILT_IN}
    for path in extra:
        engine = import_string(path)()
        if not isinstance(engine, (VideoEngine, ImageEngine)):
            raise TypeError(f"GENERATION_EXTRA_ENGINES: {path} is not a VideoEngine or an ImageEngine.")
        engines[engine.name] = engine
    return engines


def _engines() -> dict[str, Engine]:
    return _registry(tuple(getattr(settings, "GENERATION_EXTRA_ENGINES", ())))


def all_engines() -> list[Engine]:
    return list(_engines().values())


def get_engine(name: str) -> Engine:
    engines = _engines()
    try:
        return engines[name]
    except KeyError:
        raise UnknownEngine(gettext("There is no engine called %(name)r; choose one of %(engines)s.") % {"name": name, "engines": ", ".join(engines)}) from None


__all__ = [
    "ANIMATION",
    "IMAGE",
    "OUTPUT_KINDS",
    "POSTER",
    "VIDEO",
    "Engine",
    "EngineError",
    "EngineNotReady",
    "EngineSettings",
    "ImageEngine",
    "InvalidSettings",
    "Readiness",
    "RenderSettings",
    "UnknownEngine",
    "VideoEngine",
    "all_engines",
    "get_engine",
]
