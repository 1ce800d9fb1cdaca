"""The small "PetMemories" mark in the corner of free results."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

TEXT = "PetMemories"


@lru_cache(maxsize=8)
def _mark(frame_height: int) -> tuple[np.ndarray, np.ndarray]:
    """The mark for a frame of this height: RGB values and an alpha mask in [0, 1]."""
    size = max(10, round(frame_height * 0.035))
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(TEXT)
    pad = max(2, size // 4)
    canvas = Image.new("LA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad - left, pad - top), TEXT, font=font, fill=(0, 140))
    shadow = canvas.getchannel("A").filter(ImageFilter.GaussianBlur(pad / 2))
    text = Image.new("L", canvas.size, 0)
    ImageDraw.Draw(text).text((pad - left, pad - top), TEXT, font=font, fill=200)
    alpha = np.maximum(np.asarray(shadow, dtype=np.float32) * 0.6, np.asarray(text, dtype=np.float32)) / 255
    # White letters over a soft dark halo, readable on any background.
    rgb = np.where(np.asarray(text)[..., None] > 0, 255, 0).astype(np.float32).repeat(3, axis=2)
    return rgb, alpha[..., None]


def apply_watermark(frame: np.ndarray) -> np.ndarray:
    """Blend the mark into the bottom-right corner of an RGB frame (returns a new array)."""
    height, width = frame.shape[:2]
    rgb, alpha = _mark(height)
    mh, mw = alpha.shape[:2]
    margin = max(4, round(height * 0.025))
    y, x = height - mh - margin, width - mw - margin
    if y < 0 or x < 0:
        return frame
    out = frame.copy()
    region = out[y : y + mh, x : x + mw].astype(np.float32)
    out[y : y + mh, x : x + mw] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
    return out
