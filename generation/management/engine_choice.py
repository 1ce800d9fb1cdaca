"""What the engine commands (``animate``, ``restore``, ``portrait``) share: the engine named on
the command line, if it is of the kind the command runs and ready here, the photo checked as an
upload is, and an image written as a PNG or a JPEG by its name — or a one-line CommandError."""
from pathlib import Path

from django.core.management.base import CommandError
from PIL import Image

from generation.engines import Engine, get_engine
from generation.photos import PhotoRejected, photo_normalize

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def engine_for_command(name: str, kind: type[Engine], *, wrong_kind: str) -> Engine:
    chosen = get_engine(name)  # UnknownEngine, an EngineError, is the caller's to report
    if not isinstance(chosen, kind):
        raise CommandError(wrong_kind.format(engine=name))
    readiness = chosen.readiness()
    if not readiness.ready:
        raise CommandError(f"Engine {name} is not ready: {readiness.reason}")
    return chosen


def image_format_for(output: Path) -> str:
    """PNG or JPEG, by ``output``'s extension; checked before anything is rendered, with the
    folder it goes in."""
    if output.suffix.lower() not in IMAGE_FORMATS:
        raise CommandError("OUT must end in .png, .jpg or .jpeg.")
    if not output.absolute().parent.is_dir():
        raise CommandError(f"No such folder: {output.absolute().parent}")
    return IMAGE_FORMATS[output.suffix.lower()]


def photo_for_command(path: Path) -> Image.Image:
    """The photo at ``path``, checked and made upright as an upload is (``photo_normalize``)."""
    try:
        with path.open("rb") as handle:
            return photo_normalize(handle).image
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
    except PhotoRejected as error:
        raise CommandError(str(error)) from None


def image_save(image: Image.Image, output: Path) -> str:
    """Write ``image`` to ``output`` as its extension says; a line saying what was written."""
    image_format = image_format_for(output)
    options = {"quality": 92, "optimize": True, "progressive": True} if image_format == "JPEG" else {}
    try:
        image.convert("RGB").save(output, image_format, **options)
    except OSError as error:
        raise CommandError(f"Cannot write {output}: {error.strerror or error}") from None
    return f"Wrote {output} ({image.width}×{image.height}, {image_format})"

