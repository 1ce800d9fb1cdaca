from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from generation.engines import EngineError, ImageEngine
from generation.management.engine_choice import engine_for_command
from generation.photos import PhotoRejected, photo_normalize

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


class Command(BaseCommand):
    # A command-line tool that needs no URLs or database (see animate).
    requires_system_checks = []
    help = "Restore one photo with an image engine, without the web or a worker: writes OUT as a PNG or a JPEG, by its extension."

    def add_arguments(self, parser):
        parser.add_argument("photo", type=Path)
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument("--engine", default="restore", help="An image engine: restore, colorize or restore+colorize.")
        parser.add_argument("--upscale", type=int, choices=[1, 2], default=1)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, photo, output, engine, upscale, seed, **options):
        image_format = FORMATS.get(output.suffix.lower())
        if image_format is None:
            raise CommandError("OUT must end in .png, .jpg or .jpeg.")
        try:
            chosen = engine_for_command(engine, ImageEngine, wrong_kind="Engine {engine} makes videos; use `manage.py animate`.")
            render_settings = chosen.settings({"upscale": upscale, "seed": seed})
            with photo.open("rb") as handle:
                source = photo_normalize(handle).image
            (restored, *_rest) = chosen.render_images([source], render_settings, lambda fraction: None)
        except FileNotFoundError:
            raise CommandError(f"No such file: {photo}") from None
        except (EngineError, PhotoRejected) as error:
            raise CommandError(str(error)) from None
        options = {"quality": 92, "optimize": True, "progressive": True} if image_format == "JPEG" else {}
        restored.convert("RGB").save(output, image_format, **options)
        with Image.open(output) as written:
            self.stdout.write(f"Wrote {output} ({written.width}×{written.height}, {image_format})")
