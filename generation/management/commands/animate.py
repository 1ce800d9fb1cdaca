import shutil
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.engines import EngineError, RenderSettings, get_engine
from generation.photos import PhotoRejected, photo_normalize
from generation.rendering import render_files


class Command(BaseCommand):
    help = "Animate one photo with an engine, without the web or a worker: writes an MP4, or a GIF when OUT ends in .gif."

    def add_arguments(self, parser):
        defaults = RenderSettings()
        parser.add_argument("photo", type=Path)
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument("--engine", default="living-photo")
        parser.add_argument("--seconds", type=float, default=defaults.seconds)
        parser.add_argument("--fps", type=int, default=defaults.fps)
        parser.add_argument("--aspect", default=defaults.aspect)
        parser.add_argument("--height", type=int, default=defaults.height)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--no-loop", dest="loop", action="store_false")

    def handle(self, *args, photo, output, engine, **options):
        if output.suffix.lower() not in (".mp4", ".gif"):
            raise CommandError("OUT must end in .mp4 or .gif.")
        try:
            chosen = get_engine(engine)
            readiness = chosen.readiness()
            if not readiness.ready:
                raise CommandError(f"Engine {engine} is not ready: {readiness.reason}")
            render_settings = RenderSettings(**{k: options[k] for k in ("seconds", "fps", "aspect", "height", "seed", "loop")})
            with photo.open("rb") as handle:
                image = photo_normalize(handle).image
            with tempfile.TemporaryDirectory() as folder:
                files = render_files(chosen, image, render_settings, Path(folder), self._progress)
                shutil.copyfile(files.gif if output.suffix.lower() == ".gif" else files.mp4, output)
        except FileNotFoundError:
            raise CommandError(f"No such file: {photo}") from None
        except (EngineError, PhotoRejected) as error:
            raise CommandError(str(error)) from None
        sys.stderr.write("\n")
        self.stdout.write(f"Wrote {output} ({files.width}×{files.height}, {files.frame_count} frames, {files.duration:g} s)")

    def _progress(self, fraction):
        sys.stderr.write(f"\r{int(fraction * 100):3d}%")
        sys.stderr.flush()
