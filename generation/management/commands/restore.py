from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.engines import EngineError, ImageEngine
from generation.management.engine_choice import engine_for_command, image_format_for, image_save, photo_for_command


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
        image_format_for(output)
        try:
            chosen = engine_for_command(engine, ImageEngine, wrong_kind="Engine {engine} makes videos; use `manage.py animate`.")
            render_settings = chosen.settings({"upscale": upscale, "seed": seed})
            source = photo_for_command(photo)
            (restored, *_rest) = chosen.render_images([source], render_settings, lambda fraction: None)
        except EngineError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(image_save(restored, output))
