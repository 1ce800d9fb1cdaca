"""Checking and cleaning a photo before anything keeps it.

Every photo, from the upload form or the command line, goes through ``photo_normalize``:
it refuses what is not a still photo we can read (with a message for the customer), applies
the EXIF orientation, and re-encodes it as a JPEG without EXIF, so no GPS position or camera
serial is ever stored.
"""
from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

MAX_PIXELS = 50_000_000  # 50 megapixels: a 8192×6144 photo, far beyond any phone's
MIN_SIDE = 256
STORED_MAX_SIDE = 4096
ACCEPTED = _("JPEG, PNG, WebP or HEIC")
# Pillow only tries these parsers; GIF is opened only to say why it is refused.
_OPEN_FORMATS = ["JPEG", "PNG", "WEBP", "HEIF", "GIF"]
_STILL_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}


class PhotoRejected(ValueError):
    """The photo cannot be used; the message is shown to the customer as it is (in the active language)."""


def photo_max_bytes() -> int:
    """The largest photo file accepted (PHOTO_MAX_BYTES)."""
    return settings.PHOTO_MAX_BYTES


class PhotoTooLarge(PhotoRejected):
    def __init__(self):
        super().__init__(gettext("The photo is larger than %(megabytes)d MB. Please upload a smaller one.") % {"megabytes": photo_max_bytes() // (1024 * 1024)})


@dataclass(frozen=True)
class NormalizedPhoto:
    image: Image.Image  # RGB, upright
    icc_profile: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @functools.cached_property
    def jpeg(self) -> bytes:
        """What we store: the image as a JPEG without EXIF. Encoded only when asked for (the
        command line renders straight from ``image``; a phone photo takes a while to encode)."""
        out = io.BytesIO()
        self.image.save(out, "JPEG", quality=92, optimize=True, icc_profile=self.icc_profile)
        return out.getvalue()


def _read_limited(fileobj: BinaryIO) -> bytes:
    limit = photo_max_bytes()
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge()
    if not data:
        raise PhotoRejected(gettext("The file is empty."))
    return data


def _refuse_documents(head: bytes) -> None:
    lowered = head.lstrip().lower()
    if lowered.startswith(b"%pdf"):
        raise PhotoRejected(gettext("PDF documents can't be animated. Please upload a photo (%(formats)s).") % {"formats": ACCEPTED})
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<svg") or b"<svg" in lowered[:1024]:
        raise PhotoRejected(gettext("SVG drawings can't be animated. Please upload a photo (%(formats)s).") % {"formats": ACCEPTED})


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(gettext("This image has far too many pixels to be a photo.")) from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise PhotoRejected(gettext("This file isn't a photo we can read. Please upload %(formats)s.") % {"formats": ACCEPTED}) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PhotoRejected(
            gettext("This image is %(width)d×%(height)d pixels, more than the %(megapixels)d megapixels we accept.")
            % {"width": width, "height": height, "megapixels": MAX_PIXELS // 1_000_000}
        )
    if getattr(image, "is_animated", False) and image.format != "HEIF":
        raise PhotoRejected(gettext("Animated images can't be used. Please upload a still photo."))
    if image.format not in _STILL_FORMATS:
        raise PhotoRejected(gettext("%(format)s files can't be used. Please upload %(formats)s.") % {"format": image.format, "formats": ACCEPTED})
    return image


def photo_normalize(fileobj: BinaryIO) -> NormalizedPhoto:
    data = _read_limited(fileobj)
    _refuse_documents(data[:2048])
    image = _open(data)
    icc_profile = image.info.get("icc_profile")
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoRejected(gettext("The photo seems to be cut off or damaged. Please upload it again.")) from None

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    else:
        image = image.convert("RGB")

    if min(image.size) < MIN_SIDE:
        raise PhotoRejected(
            gettext("The photo is only %(width)d×%(height)d pixels. Please use one at least %(minimum)d pixels on each side.")
            % {"width": image.width, "height": image.height, "minimum": MIN_SIDE}
        )
    if max(image.size) > STORED_MAX_SIDE:
        image.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.LANCZOS)

    return NormalizedPhoto(image=image, icc_profile=icc_profile)
