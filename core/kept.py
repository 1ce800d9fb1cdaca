"""What many requests read the same way, kept in the default cache: telling every web process
when it is stale, and sparing the shared cache a round trip on most requests.

- Stamps. With a shared cache (Redis, production), deleting an entry reaches every process. The
  per-process cache (the embedded default's local memory) cannot be reached from another
  process, so there a change also touches a stamp file in VAR_DIR: an entry is kept with the
  stamp read before what it shows was read, and a process drops an entry whose stamp is no
  longer the file's (one stat() a read).
- Holds. With a shared cache a process may also hold what it read for a second or two
  (ProcessHold): most requests then make no round trip, and a change reaches them that much
  later at most. With the per-process cache there is no round trip to spare; nothing is held.
- forget_now_and_on_commit: a change forgets what it makes stale at once, and again once its
  transaction commits, so that a request meanwhile cannot keep what was committed before.

Used by the share pages (studio.sharepages), the frames' playlists (studio.devices.answers) and
the shop's banner and catalog (shop.selectors).
"""
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction


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


class ProcessHold:
    """What this process read from the shared cache, held for ``seconds`` (never a None)."""

    def __init__(self, seconds: float, most: int = 10_000):
        self.seconds, self.most = seconds, most
        self._held: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        held = self._held.get(key)
        return held[1] if held is not None and held[0] > time.monotonic() else None

    def put(self, key: str, value) -> None:
        if cache_is_per_process():
            return
        if len(self._held) >= self.most:
            self._held.clear()
        self._held[key] = (time.monotonic() + self.seconds, value)

    def forget(self, *keys: str) -> None:
        for key in keys:
            self._held.pop(key, None)


def forget_now_and_on_commit(forget: Callable[..., None], *keys: str | None) -> None:
    """Call ``forget(*keys)`` (the keys that are not empty) now and once this transaction commits."""
    keys = [key for key in keys if key]
    if keys:
        forget(*keys)
        transaction.on_commit(lambda: forget(*keys))
