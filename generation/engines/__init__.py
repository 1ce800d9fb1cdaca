"""The engine registry: every engine the product offers, by name."""
from django.utils.translation import gettext

from .base import Engine, EngineError, EngineNotReady, InvalidSettings, Readiness, RenderSettings
from .cogvideox_i2v import CogVideoXI2VEngine
from .living_photo import LivingPhotoEngine
from .svd_xt import SvdXtEngine

# living-photo first: it is the default, and it runs anywhere.
_ENGINES: dict[str, Engine] = {engine.name: engine for engine in (LivingPhotoEngine(), SvdXtEngine(), CogVideoXI2VEngine())}


class UnknownEngine(EngineError):
    pass


def all_engines() -> list[Engine]:
    return list(_ENGINES.values())


def get_engine(name: str) -> Engine:
    try:
        return _ENGINES[name]
    except KeyError:
        raise UnknownEngine(gettext("There is no engine called %(name)r; choose one of %(engines)s.") % {"name": name, "engines": ", ".join(_ENGINES)}) from None


__all__ = [
    "Engine",
    "EngineError",
    "EngineNotReady",
    "InvalidSettings",
    "Readiness",
    "RenderSettings",
    "UnknownEngine",
    "all_engines",
    "get_engine",
]
