"""Run an engine and write its outputs (MP4, GIF, poster) to a folder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from . import media
from .engines import Engine, RenderSettings
from .engines.base import ProgressCallback
from .watermark import apply_watermark

# Share of the progress bar for rendering and MP4 encoding, which happen together; the GIF
# takes the rest.
RENDER_SHARE = 0.9


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
