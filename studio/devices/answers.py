"""The frames' playlist answers, kept in the default cache, so that a poll reads one cache
entry and no database.

Every frame asks every minute, and its answer changes only when its playlist, its settings or
its download links' window do. A paired frame's answer (the JSON's bytes and its ETag) is kept
under its token's hash for at most KEEP_SECONDS, with the window and the site's address it was
made for. Any change forgets it (studio.devices.services.playlist_forget: from the services,
and on saves and deletions of frames, playlist items, their creations and jobs, studio/apps.py);
with the per-process cache (the embedded default) through the "frame-playlists" stamp as well
(core.kept). With Redis each process also holds what it read for LOCAL_SECONDS, sparing a
round trip to Redis on most polls: a change reaches a poll that much later at most. Unknown and
unpaired frames' answers are never kept, so a token unpaired on the site is refused at its next
poll (a frame asks once a minute).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from core.kept import ProcessHold, stamp, stamp_touch

# A frame's last_seen_at is written on the polls that find nothing kept: at least this often.
KEEP_SECONDS = 60
STAMP = "frame-playlists"
LOCAL_SECONDS = 1.0
_hold = ProcessHold(LOCAL_SECONDS)


@dataclass(frozen=True)
class PlaylistAnswer:
    body: bytes  # the JSON
    etag: str


def _key(token_hash: str) -> str:
    return f"frame-playlist:{settings.RELEASE}:{token_hash}"


def answers_stamp() -> int:
    """Read before the frame and its playlist are: a forget from then on makes the answer stale."""
    return stamp(STAMP)


def answer_get(*, token_hash: str, window: int, base_url: str) -> PlaylistAnswer | None:
    key = _key(token_hash)
    entry = _hold.get(key)
    if entry is None:
        entry = caches["default"].get(key)
        if entry is None:
            return None
        _hold.put(key, entry)
    kept_stamp, kept_window, kept_base_url, answer = entry
    if (kept_stamp, kept_window, kept_base_url) != (answers_stamp(), window, base_url):
        return None
    return answer


def answer_set(*, token_hash: str, window: int, base_url: str, stamp: int, answer: PlaylistAnswer) -> None:
    caches["default"].set(_key(token_hash), (stamp, window, base_url, answer), KEEP_SECONDS)


def answers_forget(*token_hashes: str) -> None:
    keys = [_key(token_hash) for token_hash in token_hashes]
    caches["default"].delete_many(keys)
    _hold.forget(*keys)
    stamp_touch(STAMP)
