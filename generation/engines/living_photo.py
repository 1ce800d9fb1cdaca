"""living-photo: a slow, eased camera move over the photo, on the CPU, with no weights.

This first version moves the camera only: a gentle push-in towards the centre of the frame
and back, eased so that it starts and ends at rest. With ``loop`` on, the move returns to
where it started, so the last frame flows into the first.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from PIL import Image

from .base import Engine, ProgressCallback, RenderSettings, crop_to_aspect

ZOOM = 0.12  # how far the camera pushes in at the top of the move (12 %)
DRIFT = 0.04  # how far it drifts sideways and up, as a share of the frame


def ease(t: float, *, loop: bool) -> float:
    """The camera's position along its path at time ``t`` in [0, 1], from 0 (rest) to 1.

    Looping: out and back on a raised cosine, whose speed is zero at both ends, so the
    seam is invisible. Otherwise: a smoothstep from rest to rest.
    """
    if loop:
        return (1 - math.cos(2 * math.pi * t)) / 2
    return t * t * (3 - 2 * t)


class LivingPhotoEngine(Engine):
    name = "living-photo"
    label = "Living photo"
    description = "A gentle, eased camera move over your photo. Runs anywhere, no GPU needed."
    queue = "cpu"

    def render(
        self, image: Image.Image, settings: RenderSettings, progress: ProgressCallback
    ) -> Iterator[np.ndarray]:
        width, height = settings.size
        crop = crop_to_aspect(image, settings.aspect)
        # Resample once to a working copy just big enough for the deepest zoom, so each frame
        # is a cheap sub-pixel resize of a small image rather than of the full photo.
        scale = width * (1 + ZOOM) / (crop[2] - crop[0])
        work_size = (round((crop[2] - crop[0]) * scale), round((crop[3] - crop[1]) * scale))
        work = image.resize(work_size, Image.Resampling.LANCZOS, box=crop)
        ww, wh = work.size

        count = settings.frame_count
        for index in range(count):
            t = index / count if settings.loop else index / (count - 1)
            u = ease(t, loop=settings.loop)
            zoom = 1 + ZOOM * u
            bw, bh = ww / zoom, wh / zoom
            # Drift towards the upper right, where a pet's face usually is not cut off.
            cx = ww / 2 + DRIFT * ww * u
            cy = wh / 2 - DRIFT * wh * u
            left = min(max(cx - bw / 2, 0.0), ww - bw)
            top = min(max(cy - bh / 2, 0.0), wh - bh)
            frame = work.resize((width, height), Image.Resampling.BICUBIC, box=(left, top, left + bw, top + bh))
            yield np.asarray(frame)
            progress((index + 1) / count)
