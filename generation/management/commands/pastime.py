from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.engines import EngineError, ImageEngine
from generation.management.engine_choice import engine_for_command, image_save, photo_for_command
from generation.selectors import pastime_params

ENGINE = "pastime-images"
# The knobs taken as they are given: the engine's settings check and coerce them, so a value out
# of range gets the same one-line reason as a job would.
KNOBS = ("count", "seed", "aspect", "height", "steps", "guidance")


class Command(BaseCommand):
    help = (
        "Make pictures of the person in 1 to 3 photos (three, of the face from different sides, hold the likeness best) "
        "doing a pastime of the catalogue, without the web or a worker: OUTDIR/pastime-1.png … (3 or 4 of them). "
        "Reads the pastime from the database, so run it where the migrations are applied."
    )

    def add_arguments(self, parser):
        parser.add_argument("photos", type=Path, nargs="+", metavar="PHOTO")
        parser.add_argument("--pastime", required=True, help="The pastime's slug, e.g. singing, fishing, hiking, golf.")
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="The folder to write into (made if missing).")
        parser.add_argument("--count", help="Pictures, 3 or 4 (default 4).")
        parser.add_argument("--seed")
        parser.add_argument("--aspect", help="1:1 (default), 4:3, 3:4, 16:9 or 9:16.")
        parser.add_argument("--height", help="Size: as many pixels as a square this tall, in any shape (default 1024).")
        parser.add_argument("--steps", help="Denoising steps (default 30).")
        parser.add_argument("--guidance", help="Prompt guidance (default 6.0).")

    def handle(self, *args, photos, pastime, output, **options):
        try:
            engine = engine_for_command(ENGINE, ImageEngine, wrong_kind="Engine {engine} makes videos.")
            engine.photos_check(len(photos))
            sources = [photo_for_command(photo) for photo in photos]
            params = {name: options[name] for name in KNOBS if options[name] is not None}
            render_settings = engine.settings({**params, **pastime_params(slug=pastime)})
            if output.exists() and not output.is_dir():
                raise CommandError(f"OUTDIR is a file: {output}")
            pictures = engine.render_images(sources, render_settings, lambda fraction: None)
        except EngineError as error:
            raise CommandError(str(error)) from None
        output.mkdir(parents=True, exist_ok=True)
        for number, picture in enumerate(pictures, start=1):
            self.stdout.write(image_save(picture, output / f"pastime-{number}.png"))
