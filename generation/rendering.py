"""Run an engine and write its outputs to a folder: a video engine's MP4, GIF and poster, an
image engine's PNGs or JPEGs."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from . import media
from .engines import ANIMATION, IMAGE, POSTER, VIDEO, Engine, EngineSettings, ImageEngine, RenderSettings, VideoEngine
from .engines.base import ProgressCallback
from .watermark import apply_watermark

# Share of the progress bar for rendering and MP4 encoding, which happen together; the GIF
# takes the rest.
RENDER_SHARE = 0.9
IMAGE_EXTENSIONS = {"PNG": "png", "JPEG": "jpg"}


@dataclass(frozen=True)
class RenderedFiles:
    mp4: Path
    gif: Path | None
    poster: Path
    width: int
    height: int
    frame_count: int
    duration: float


def render_files(
    engine: Engine,
    image: Image.Image,
    settings: RenderSettings,
    folder: Path,
    progress: ProgressCallback = lambda fraction: None,
    *,
    watermark: bool = False,
    gif: bool = True,
) -> RenderedFiles:
    """Render ``image`` with ``engine`` into ``folder``: video.mp4, poster.jpg and, unless
    ``gif`` is False, video.gif."""
    mp4_path, gif_path, poster_path = folder / "video.mp4", folder / "video.gif", folder / "poster.jpg"
    first = []

    def frames():
        for frame in engine.render(image, settings, lambda f: progress(f * (RENDER_SHARE if gif else 1.0))):
            if watermark:
                frame = apply_watermark(frame)
            if not first:
                first.append(frame)
            yield frame

    count = media.encode_mp4(frames(), mp4_path, fps=settings.fps)
    media.save_poster(first[0], poster_path)
    if gif:
        media.encode_gif(mp4_path, gif_path)
    progress(1.0)
    height, width = first[0].shape[:2]
    return RenderedFiles(mp4_path, gif_path if gif else None, poster_path, width, height, count, count / settings.fps)


@dataclass(frozen=True)
class RenderedOutput:
    """One file an engine made, of a kind (engines.OUTPUT_KINDS), with what is known of it."""

    kind: str
    path: Path
    width: int
    height: int
    frame_count: int | None = None
    duration: float | None = None


def render_outputs(
    engine: Engine,
    photos: list[Image.Image],
    settings: EngineSettings,
    folder: Path,
    progress: ProgressCallback = lambda fraction: None,
    *,
    watermark: bool = False,
) -> list[RenderedOutput]:
    """Run ``engine`` over ``photos`` (RGB, in order) and write what it makes into ``folder``,
    in the order a job keeps its outputs."""
    engine.photos_check(len(photos))
    if isinstance(engine, VideoEngine):
        files = render_files(engine, photos[0], settings, folder, progress, watermark=watermark)
        gif_width, gif_height = media.gif_size(files.width, files.height)
        return [
            RenderedOutput(VIDEO, files.mp4, files.width, files.height, files.frame_count, files.duration),
            RenderedOutput(ANIMATION, files.gif, gif_width, gif_height, round(files.duration * media.GIF_FPS), files.duration),
            RenderedOutput(POSTER, files.poster, files.width, files.height),
        ]
    if isinstance(engine, ImageEngine):
        images = engine.render_images(photos, settings, lambda fraction: progress(fraction * RENDER_SHARE))
        if not images:
            raise ValueError(f"{engine.name} made no image.")
        outputs = []
        for number, image in enumerate(images, start=1):
            pixels = np.asarray(image.convert("RGB"))
            if watermark:
                pixels = apply_watermark(pixels)
            path = folder / f"image-{number}.{IMAGE_EXTENSIONS[engine.image_format]}"
            media.save_image(pixels, path, image_format=engine.image_format)
            outputs.append(RenderedOutput(IMAGE, path, pixels.shape[1], pixels.shape[0]))
            if number == 1 and POSTER in engine.makes:
                media.save_poster(pixels, folder / "poster.jpg")
                poster = RenderedOutput(POSTER, folder / "poster.jpg", pixels.shape[1], pixels.shape[0])
        if POSTER in engine.makes:
            outputs.append(poster)
        progress(1.0)
        return outputs
    raise TypeError(f"{engine.name} is neither a VideoEngine nor an ImageEngine.")
