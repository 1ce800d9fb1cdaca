"""Run an engine and write its outputs (MP4, GIF, poster) to a folder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from . import media
from .engines import Engine, RenderSettings
from .engines.base import ProgressCallback

# Shares of the progress bar: rendering and MP4 encoding happen together, then the GIF.
RENDER_SHARE = 0.9


@dataclass(frozen=True)
class RenderedFiles:
    mp4: Path
    gif: Path
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
) -> RenderedFiles:
    mp4, gif, poster = folder / "video.mp4", folder / "video.gif", folder / "poster.jpg"
    first = []

    def frames():
        for frame in engine.render(image, settings, lambda f: progress(f * RENDER_SHARE)):
            if not first:
                first.append(frame)
            yield frame

    count = media.encode_mp4(frames(), mp4, fps=settings.fps)
    media.save_poster(first[0], poster)
    media.encode_gif(mp4, gif)
    progress(1.0)
    width, height = settings.size
    return RenderedFiles(mp4, gif, poster, width, height, count, count / settings.fps)
