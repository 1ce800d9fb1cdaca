"""Telling every web process that what it keeps in the default cache under some name is stale.

With a shared cache (Redis, production), deleting an entry reaches every process. The
per-process cache (the embedded default's local memory) cannot be reached from another process,
so there a change also touches a stamp file in VAR_DIR: an entry is kept with the stamp read
before what it shows was read, and a process drops an entry whose stamp is no longer the file's
(one stat() a read). Used for the share pages and the frames' playlists.
"""
import os

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


def cache_is_per_process() -> bool:
    return isinstance(caches["default"], LocMemCache)


def _path(name: str):
    return settings.VAR_DIR / f"{name}.stamp"


def stamp(name: str) -> int:
    """Read before what an entry shows is read; 0 with a shared cache, which needs none."""
    if not cache_is_per_process():
        return 0
    try:
        return os.stat(_path(name)).st_mtime_ns
    except FileNotFoundError:
        return 0


def stamp_touch(name: str) -> None:
    """Entries kept under ``name`` with an earlier stamp are stale, in every process."""
    if cache_is_per_process():
        _path(name).touch()
