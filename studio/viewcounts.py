"""Visits to public pages, counted in memory and written to the database in batches, so that
a visit writes nothing to the database while the visitor waits.

With Redis as the default cache (production) every web process adds to one hash on the
server (HINCRBY, atomic); the beat task takes the whole hash in one MULTI (HGETALL then DEL,
so an increment lands either in this batch or the next, never in both or neither) and writes
it. With the per-process cache (the embedded default) each process counts in a dictionary of
its own and writes it itself from a thread, once an interval, outside any request, and once
more when it exits normally. Either way a process that dies between two writes loses at most
the visits of one interval; nothing is counted twice.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

HASH_KEY = "share-views"


def _redis():
    """The Redis client behind the default cache and the hash's key, or None for any other cache."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True), backend.make_key(HASH_KEY)


class _ProcessCounts:
    """This process's visits not yet written, and the thread that writes them once an interval."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.pid = None

    def add(self, key: str, flush: Callable[[], object]) -> None:
        with self.lock:
            if self.pid != os.getpid():
                # First visit in this process. After a fork (gunicorn's workers) what the parent
                # counted is the parent's to write, and its thread did not come along.
                self.pid, self.counts = os.getpid(), Counter()
                if settings.SHARE_VIEWS_FLUSH_SECONDS:
                    threading.Thread(target=self._run, args=(flush, settings.SHARE_VIEWS_FLUSH_SECONDS), name="share-views", daemon=True).start()
                    atexit.register(flush)
            self.counts[key] += 1

    def take(self) -> Counter[str]:
        with self.lock:
            counts, self.counts = self.counts, Counter()
        return counts

    @staticmethod
    def _run(flush, seconds):
        from django.db import connections

        while True:
            time.sleep(seconds)
            try:
                flush()
            except Exception:  # the database was away: that interval's visits are lost, the next ones are not
                logger.exception("Could not write the share pages' visits")
            finally:
                connections.close_all()  # this thread's own connections


_process = _ProcessCounts()


def view_count(*, key: str, flush: Callable[[], object]) -> None:
    """Count one visit to ``key`` (a creation's id); ``flush`` writes what was counted (the
    per-process cache's thread calls it)."""
    redis = _redis()
    if redis is None:
        _process.add(key, flush)
        return
    client, hash_key = redis
    client.hincrby(hash_key, key, 1)


def views_take() -> dict[str, int]:
    """Everything counted since the last take (Redis: by every process; otherwise by this one),
    now no longer counted anywhere: the caller writes it or it is lost."""
    redis = _redis()
    if redis is None:
        return dict(_process.take())
    client, hash_key = redis
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(hash_key)
        pipe.delete(hash_key)
        counts, _ = pipe.execute()
    return {key.decode() if isinstance(key, bytes) else key: int(value) for key, value in counts.items()}
