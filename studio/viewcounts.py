"""Visits to public pages, counted in memory and written to the database in batches, so that
a visit neither writes to the database nor waits for any server.

Each web process counts in a dictionary of its own, and a thread of the process hands the
counts on outside any request (and once more when the process exits normally):

- with Redis as the default cache (production), every REDIS_PUSH_SECONDS into one hash on the
  server (HINCRBY, atomic), which the beat task `studio.flush_share_views` takes whole in one
  MULTI (HGETALL then DEL: an increment lands in this batch or the next, never both or
  neither) and writes to the database every SHARE_VIEWS_FLUSH_SECONDS;
- with the per-process cache (the embedded default), straight to the database every
  SHARE_VIEWS_FLUSH_SECONDS.

A process that dies loses what it counted since its last hand-over (one interval at most);
a flush that dies after taking the hash loses that batch; nothing is ever counted twice.
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
REDIS_PUSH_SECONDS = 1


def redis_client():
    """The Redis client behind the default cache and the hash's key, or None for any other cache."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True), backend.make_key(HASH_KEY)


class _ProcessCounts:
    """This process's visits not yet handed on, and the thread that hands them on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.pid = None

    def add(self, key: str, hand_on: Callable[[], object]) -> None:
        with self.lock:
            if self.pid != os.getpid():
                # First visit in this process. After a fork (gunicorn's workers) what the parent
                # counted is the parent's to hand on, and its thread did not come along.
                self.pid, self.counts = os.getpid(), Counter()
                seconds = REDIS_PUSH_SECONDS if redis_client() else settings.SHARE_VIEWS_FLUSH_SECONDS
                if settings.SHARE_VIEWS_FLUSH_SECONDS:
                    threading.Thread(target=self._run, args=(hand_on, seconds), name="share-views", daemon=True).start()
                    atexit.register(hand_on)
            self.counts[key] += 1

    def take(self) -> Counter[str]:
        with self.lock:
            counts, self.counts = self.counts, Counter()
        return counts

    @staticmethod
    def _run(hand_on, seconds):
        from django.db import connections

        while True:
            time.sleep(seconds)
            try:
                hand_on()
            except Exception:  # the database or Redis was away: that interval's visits are lost, the next ones are not
                logger.exception("Could not hand on the share pages' visits")
            finally:
                connections.close_all()  # this thread's own connections


_process = _ProcessCounts()


def view_count(*, key: str, hand_on: Callable[[], object]) -> None:
    """Count one visit to ``key`` (a creation's id) in this process; ``hand_on`` is what its
    thread calls (studio.services.share_views_hand_on)."""
    _process.add(key, hand_on)


def views_take_own() -> dict[str, int]:
    """What this process counted since it last handed its counts on, no longer counted here."""
    return dict(_process.take())


def views_push(counts: dict[str, int]) -> None:
    """Add ``counts`` to the hash in Redis that every process adds to."""
    client, hash_key = redis_client()
    if counts:
        with client.pipeline(transaction=False) as pipe:
            for key, count in counts.items():
                pipe.hincrby(hash_key, key, count)
            pipe.execute()


def views_take_shared() -> dict[str, int]:
    """Everything every process pushed to Redis since the last take, no longer counted there."""
    client, hash_key = redis_client()
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(hash_key)
        pipe.delete(hash_key)
        counts, _ = pipe.execute()
    return {key.decode() if isinstance(key, bytes) else key: int(value) for key, value in counts.items()}
