"""Uploads stop at the photo limit instead of landing on disk in full first.

Django's parser writes an upload to memory or a temporary file before any view can look at its
size. ``photo_upload_limited`` puts ``PhotoSizeLimitHandler`` in front of the usual handlers for
one view: it counts the file bytes as they arrive and halts the parsing once they pass
PHOTO_MAX_BYTES, so the rest of the body is never read and nothing is kept.
"""
import functools

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from generation.photos import PhotoTooLarge, photo_max_bytes


class PhotoSizeLimitHandler(FileUploadHandler):
    """Passes file chunks on to the next handlers until the request's files pass the limit."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = photo_max_bytes()
        self.received = 0
        self.stopped = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.stopped = True
            # connection_reset: do not read (and throw away) the rest of the body either.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler makes the file


def _back_with_message(request, message: str):
    messages.error(request, message)
    return redirect(request.get_full_path())


def photo_upload_limited(view=None, *, too_large=_back_with_message):
    """Install ``PhotoSizeLimitHandler`` for ``view``; an upload over the limit gets
    ``too_large(request, message)``: by default, back to the page it came from with the "too
    large" message. Handlers must be in place before the CSRF check reads the body, hence
    exempt outside and protected inside (as Django's docs do)."""
    if view is None:
        return functools.partial(photo_upload_limited, too_large=too_large)

    @csrf_protect
    def checked(request, *args, limit_handler, **kwargs):
        # Reading FILES parses the body, through the handler, here if the CSRF check did not.
        if request.method == "POST" and not request.FILES and limit_handler.stopped:
            return too_large(request, str(PhotoTooLarge()))
        return view(request, *args, **kwargs)

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        handler = PhotoSizeLimitHandler(request)
        request.upload_handlers.insert(0, handler)
        return checked(request, *args, limit_handler=handler, **kwargs)

    return wrapped
