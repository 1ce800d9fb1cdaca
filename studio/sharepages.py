"""The anonymous public pages, kept rendered in the default cache per link, language and release,
so that a visit reads one cache entry and nothing else.

A change to what a page shows forgets it (studio.services.share_page_forget, on the
creation's and its job's changes). With a shared cache (Redis) that deletes the entries every
process reads; with the per-process cache (the embedded default) it also touches the
"share-pages" stamp (core.kept), so that the other processes drop what they rendered before.
With Redis each process also keeps what it read for LOCAL_SECONDS, so that a page seen by many
is not fetched from Redis on every visit: a forgotten page can be served that much longer by
another process.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from core.kept import ProcessHold, stamp, stamp_touch

LOCAL_SECONDS = 1.0
STAMP = "share-pages"
_hold = ProcessHold(LOCAL_SECONDS, most=1000)


@dataclass(frozen=True)
class SharePage:
    site: str  # the scheme and host it names itself by (its og: tags are absolute)
    html: str
    etag: str
    creation_id: str
    owner_id: int


def _key(token: str, language: str) -> str:
    return f"share-page:{settings.RELEASE}:{language}:{token}"


def page_stamp() -> int:
    """Read before what a page shows is read: a forget from then on makes the page stale."""
    return stamp(STAMP)


def page_get(*, token: str, language: str, site: str) -> SharePage | None:
    """The page kept for this link and language, if rendered for ``site`` and not forgotten since."""
    key = _key(token, language)
    held = _hold.get(key)
    if held is not None and held.site == site:
        return held
    entry = caches["default"].get(key)
    if entry is None:
        return None
    page, stamp = entry
    if stamp != page_stamp() or page.site != site:
        return None
    _hold.put(key, page)
    return page


def page_set(*, token: str, language: str, site: str, stamp: int, html: str, creation_id, owner_id: int) -> SharePage:
    page = SharePage(site=site, html=html, etag=f'"{hashlib.sha256(html.encode()).hexdigest()[:32]}"', creation_id=str(creation_id), owner_id=owner_id)
    caches["default"].set(_key(token, language), (page, stamp), settings.SHARE_PAGE_CACHE_SECONDS)
    return page


def pages_forget(*tokens: str) -> None:
    """Forget the pages of these links, in every language."""
    keys = [_key(token, language) for token in tokens if token for language, _ in settings.LANGUAGES]
    caches["default"].delete_many(keys)
    _hold.forget(*keys)
    stamp_touch(STAMP)
