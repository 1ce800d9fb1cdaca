from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.engines import EngineError, ImageEngine
from generation.management.engine_choice import engine_for_command, image_format_for, image_save, photo_for_command

# The knobs taken as they are given: the engine's settings check and coerce them, so a value out
# of range gets the same one-line reason as on the upload form.
KNOBS = ("shape", "height", "backdrop", "tone", "count", "seed", "attire", "steps", "guidance", "gen_height")


class Command(BaseCommand):
    # A command-line tool that needs no URLs or database (see animate).
    requires_system_checks = []
    help = (
        "Make memorial portraits of the person in one photo, without the web or a worker. With one candidate "
        "(--count 1) it writes OUT; with more (the engine's default is 4, one per backdrop) it writes OUT-1 … OUT-N "
        "beside it (portrait.png → portrait-1.png …), the backdrop asked for first. PNG or JPEG by OUT's extension."
    )

    def add_arguments(self, parser):
        parser.add_argument("photo", type=Path)
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument(
            "--engine", default="memorial-portrait",
            help="A portrait engine: memorial-portrait (CPU, default) or memorial-portrait-sdxl (GPU, with its weights).",
        )
        parser.add_argument("--shape", help="4:5 (default) or 3:4.")
        parser.add_argument("--height", help="In pixels (memorial-portrait: 512–3000, default 1500; -sdxl: 512–4096, default 2048).")
        parser.add_argument("--backdrop", help="grey (default), brown, blue or white.")
        parser.add_argument("--tone", help="colour (default), bw or sepia.")
        parser.add_argument("--count", help="Candidates, 1–4 (default 4).")
        parser.add_argument("--seed")
        parser.add_argument("--attire", help="memorial-portrait-sdxl: suit (default), hanbok or plain.")
        parser.add_argument("--steps", help="memorial-portrait-sdxl: denoising steps (default 8, for a turbo checkpoint; SDXL base wants about 30).")
        parser.add_argument("--guidance", help="memorial-portrait-sdxl: prompt guidance (default 2.0; SDXL base wants 5–7).")
        parser.add_argument("--gen-height", dest="gen_height", help="memorial-portrait-sdxl: the height it generates at (default 1024).")
        parser.add_argument("--ribbon", action="store_true", default=None, help="A black mourning ribbon across the top corners.")
        parser.add_argument("--frame", action="store_true", default=None, help="A thin dark frame line inside the border.")

    def handle(self, *args, photo, output, engine, **options):
        image_format_for(output)
        params = {name: options[name] for name in (*KNOBS, "ribbon", "frame") if options[name] is not None}
        try:
            chosen = engine_for_command(engine, ImageEngine, wrong_kind="Engine {engine} makes videos; use `manage.py animate`.")
            render_settings = chosen.settings(params)
            source = photo_for_command(photo)
            portraits = chosen.render_images([source], render_settings, lambda fraction: None)
        except EngineError as error:
            raise CommandError(str(error)) from None
        if len(portraits) == 1:
            self.stdout.write(image_save(portraits[0], output))
            return
        for number, portrait in enumerate(portraits, start=1):
            self.stdout.write(image_save(portrait, output.with_name(f"{output.stem}-{number}{output.suffix}")))
