"""The frames' JSON API under /api/frames/ (see docs/frames.md).

    POST /api/frames/register    → {device_id, token, pairing_code, ...}
    GET  /api/frames/playlist    Authorization: Bearer <token> → {items: [...], ...} with an ETag
    GET  /api/frames/media/<signed link>/   the video, poster or still, while the link is valid
"""
import json

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.media import private_file_response

from ..ratelimit import client_address, rate_limit_allow
from . import services as devices

SCREEN_LIMITS = (64, 8192)


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="petmemories-frames"'
    return response


@csrf_exempt  # a frame has no cookies or CSRF token; it proves itself with its bearer token
@require_POST
def register(request):
    limit = settings.FRAMES_REGISTER_PER_ADDRESS_PER_HOUR
    if not rate_limit_allow(scope="frame-register", who=client_address(request), limit=limit, seconds=3600):
        response = _error(429, f"Too many frames registered from this address: at most {limit} an hour. Try again later.")
        response["Retry-After"] = "3600"
        return response
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
        width, height = int(body.get("screen_width", 1920)), int(body.get("screen_height", 1080))
        name = str(body.get("name", ""))
    except (ValueError, TypeError):
        return _error(400, "Send a JSON object: {\"name\": ..., \"screen_width\": ..., \"screen_height\": ...} (all optional).")
    if not all(SCREEN_LIMITS[0] <= side <= SCREEN_LIMITS[1] for side in (width, height)):
        return _error(400, f"screen_width and screen_height must be between {SCREEN_LIMITS[0]} and {SCREEN_LIMITS[1]} pixels.")
    try:
        registration = devices.device_register(name=name, screen_width=width, screen_height=height)
    except ValidationError:
        return _error(400, "name must be one line of text, without control characters.")
    device = registration.device
    return JsonResponse({
        "device_id": str(device.pk),
        "token": registration.token,
        "pairing_code": device.pairing_code,
        "pairing_expires_at": device.pairing_expires_at.isoformat(),
        "pair_at": request.build_absolute_uri("/frames/pair/"),
        "playlist_url": request.build_absolute_uri("/api/frames/playlist"),
    }, status=201)


@require_GET
def playlist(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    answer = devices.playlist_answer(token=token.strip(), base_url=request.build_absolute_uri("/").rstrip("/")) if scheme.lower() == "bearer" else None
    if answer is None:
        return _error(401, "Unknown or revoked token. Register again and pair the frame.")
    if answer.etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(answer.body, content_type="application/json")
    response["ETag"] = answer.etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def media(request, link):
    try:
        _device, creation, kind = devices.media_for_link(link)
    except (signing.BadSignature, KeyError, ValueError):
        raise Http404("This link has expired or was never valid; fetch the playlist again.") from None
    output = devices.media_output(creation=creation, kind=kind)
    if output is None:
        raise Http404("This item has no such file.")
    return private_file_response(request, output.file)
