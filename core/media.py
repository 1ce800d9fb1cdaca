"""Serving private files (photos, videos, GIFs, posters) after a view has checked permission.

Nothing under MEDIA_ROOT is reachable by URL. Local files are streamed by Django with
support for byte ranges (browsers seek in a video with them); files on S3 are handed out as
short-lived signed URLs.
"""
import mimetypes
import re
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect

CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def private_file_response(request, fieldfile, *, download_name: str | None = None):
    storage = fieldfile.storage
    disposition = f'attachment; filename="{download_name}"' if download_name else "inline"
    if not isinstance(storage, FileSystemStorage):
        parameters = {"ResponseContentDisposition": disposition} if download_name else None
        return redirect(storage.url(fieldfile.name, parameters=parameters))

    content_type = mimetypes.guess_type(PurePosixPath(fieldfile.name).name)[0] or "application/octet-stream"
    size = storage.size(fieldfile.name)
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        response = FileResponse(storage.open(fieldfile.name, "rb"), content_type=content_type)
    else:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:  # "bytes=-N": the last N bytes
            start, end = max(size - int(last), 0), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(_read_range(storage.open(fieldfile.name, "rb"), start, end), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _read_range(handle, start, end):
    with handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
