import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation.engines import EngineError, VideoEngine
from generation.management.engine_choice import engine_for_command
from generation.photos import PhotoRejected, photo_normalize
from generation.rendering import render_files

COMMON_KNOBS = ("seconds", "fps", "aspect", "height", "motion", "seed", "loop")


class Command(BaseCommand):
    # A command-line tool that needs no URLs or database: skipping the system checks keeps
    # its start-up short.
    requires_system_checks = []
    help = (
        "Animate one photo with an engine, without the web or a worker: writes an MP4, or a GIF "
        "when OUT ends in .gif. Engine-specific knobs go in --set NAME=VALUE (e.g. --set steps=25)."
    )

    def add_arguments(self, parser):
        parser.add_argument("photo", type=Path)
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument("--engine", default=settings.GENERATION_DEFAULT_ENGINE)
        parser.add_argument("--seconds", type=float)
        parser.add_argument("--fps", type=int)
        parser.add_argument("--aspect")
        parser.add_argument("--height", type=int)
        parser.add_argument("--motion", type=int, help="Motion strength, 0–255.")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--no-loop", dest="loop", action="store_false", default=None)
        parser.add_argument(
            "--subject", metavar="X,Y",
            help="Whose face to frame and follow: a point on it, in pixels of the photo as the site stores it (upright).",
        )
        parser.add_argument("--set", dest="extra", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--watermark", action="store_true", help="Add the free tier's watermark.")
        parser.add_argument("--timings", action="store_true", help="Print the time spent rendering and encoding.")

    def handle(self, *args, photo, output, engine, subject, extra, watermark, timings, **options):
        if output.suffix.lower() not in (".mp4", ".gif"):
            raise CommandError("OUT must end in .mp4 or .gif.")
        params = {name: options[name] for name in COMMON_KNOBS if options[name] is not None}
        for item in extra:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set takes NAME=VALUE, not {item!r}.")
            params[name.strip().replace("-", "_")] = value
        try:
            chosen = engine_for_command(engine, VideoEngine, wrong_kind="Engine {engine} makes images, not a video; animate runs video engines.")
            render_settings = chosen.settings(params)
            with photo.open("rb") as handle:
                image = photo_normalize(handle).image
            if subject is not None:
                params["subject"] = subject_fractions(subject, image.size, chosen.settings_class, engine)
                render_settings = chosen.settings(params)
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                files = render_files(
                    chosen, image, render_settings, Path(folder), self._progress, watermark=watermark,
                    gif=output.suffix.lower() == ".gif",
                )
                elapsed = time.perf_counter() - started
                shutil.copyfile(files.gif if output.suffix.lower() == ".gif" else files.mp4, output)
        except FileNotFoundError:
            raise CommandError(f"No such file: {photo}") from None
        except (EngineError, PhotoRejected) as error:
            raise CommandError(str(error)) from None
        sys.stderr.write("\n")
        self.stdout.write(f"Wrote {output} ({files.width}×{files.height}, {files.frame_count} frames, {files.duration:g} s)")
        if timings:
            self.stdout.write(f"render+encode seconds: {elapsed:.3f}")

    def _progress(self, fraction):
        sys.stderr.write(f"\r{int(fraction * 100):3d}%")
        sys.stderr.flush()


def subject_fractions(point: str, size: tuple[int, int], settings_class: type, engine: str) -> str:
    """The ``subject`` knob ("x,y" as fractions of the photo) for a point given in its pixels."""
    if "subject" not in {field.name for field in dataclasses.fields(settings_class)}:
        raise CommandError(f"Engine {engine} takes no --subject.")
    try:
        x, y = (float(part) for part in point.split(","))
    except ValueError:
        raise CommandError(f"--subject takes X,Y, a point in the photo's pixels, not {point!r}.") from None
    width, height = size
    if not (0 <= x <= width and 0 <= y <= height):
        raise CommandError(f"--subject {point} is outside the photo, which is {width}×{height} pixels.")
    return f"{x / width:.6f},{y / height:.6f}"
