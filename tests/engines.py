"""Engines that exist for the tests only, registered through GENERATION_EXTRA_ENGINES in the
test's process and in the worker processes it starts, exactly as an operator adds one."""
from __future__ import annotations

from PIL import Image

from generation.engines import EngineSettings, ImageEngine
from generation.engines.base import crop_to_aspect


class CollageEngine(ImageEngine):
    """Three photos in, four images out: each photo framed to the chosen shape, then the three
    side by side. What it makes is easy to check by colour, so a test can tell that the photos
    arrived in order and the images left in order."""

    name = "test-collage"
    label = "Collage (tests only)"
    description = "Three photos side by side."
    queue = "cpu"
    photos = (3, 3)
    settings_class = EngineSettings
    time_limit = 60

    def render_images(self, photos, settings, progress):
        width, height = settings.size
        framed = []
        for number, photo in enumerate(photos, start=1):
            framed.append(photo.crop(crop_to_aspect(photo, settings.aspect)).resize((width, height), Image.Resampling.LANCZOS))
            progress(number / (len(photos) + 1))
        strip = Image.new("RGB", (width, height))
        third = width // 3
        for index, image in enumerate(framed):
            strip.paste(image.resize((third, height)), (index * third, 0))
        progress(1.0)
        return [*framed, strip]
