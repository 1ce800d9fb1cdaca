"""The web frame player under /frames/player/: a browser page that is a frame (see "The frame
player" in docs/frames.md). It speaks the same JSON API as any frame (``api.py``); these views
only serve its page, its service worker and the QR code of its pairing link."""
import hashlib
import io
import json
import re

import segno
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import services as devices

SHELL = ["css/frame_player.css", "js/frame_player.js"]
# The player may poll faster than the API suggests (tests, a demonstration); never faster than
# this, never slower than an hour. It reads ?poll= itself (static/js/frame_player.js), so that
# the copy of the page its service worker keeps honours it too.
POLL_BOUNDS = (2, 3600)
_CODE = re.compile(rf"[{devices.PAIRING_ALPHABET}]{{{devices.PAIRING_CODE_LENGTH}}}")

# Only our own files, in the page and the worker; media are blob: URLs of what was cached.
# connect-src allows https: besides the site: on S3 storage a frame's media link redirects to
# the bucket (which then needs CORS for the site's origin, see docs/frames.md).
PLAYER_CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "media-src 'self' blob:",
    "connect-src 'self' https:", "worker-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'",
    "frame-ancestors 'none'",
])


def _no_store(response: HttpResponse) -> HttpResponse:
    """The page and its worker change with each release; the worker keeps its own copy for
    when the network is gone, so the browser's HTTP cache should keep none."""
    response["Cache-Control"] = "no-cache, max-age=0"
    response["Content-Security-Policy"] = PLAYER_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def player(request):
    """The frame itself: full screen, no site chrome. Anyone may open it; it is a frame only
    once someone pairs the code it shows."""
    context = {
        "register_url": reverse("studio:frame-register"),
        "playlist_url": reverse("studio:frame-playlist"),
        "worker_url": reverse("studio:frame-player-worker"),
        "qr_url": reverse("studio:frame-player-qr"),
        "pair_url": request.build_absolute_uri(reverse("studio:frame-pair")),
        "poll_bounds": POLL_BOUNDS,
    }
    return _no_store(render(request, "studio/frames/player.html", context))


@require_GET
def player_worker(request):
    """The player's service worker, from a view under /frames/player/ so that its scope is the
    player, and never cached for long (static files are cached for a year). Its text names the
    shell's files, so a release that changes them changes the worker, and browsers update it."""
    shell = [reverse("studio:frame-player"), *(static(name) for name in SHELL)]
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
    response = render(
        request, "studio/frames/player_sw.js", {"shell": json.dumps(shell), "version": json.dumps(version)},
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = reverse("studio:frame-player")
    return _no_store(response)


@require_GET
def player_qr(request):
    """A QR code of the pairing page's link with the code filled in, as SVG, for a phone to
    scan off the frame's screen. Made here, so the frame needs nothing from anyone else."""
    code = request.GET.get("code", "").upper()
    if not _CODE.fullmatch(code):
        return HttpResponseBadRequest("code must be a pairing code.", content_type="text/plain")
    link = request.build_absolute_uri(reverse("studio:frame-pair")) + "?code=" + code
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False, omitsize=True)
    response = HttpResponse(svg.getvalue(), content_type="image/svg+xml")
    # A code is worth something for a quarter of an hour; keep it off shared caches.
    response["Cache-Control"] = "private, max-age=900"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
