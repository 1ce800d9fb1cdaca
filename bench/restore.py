"""How much the restore engine repairs, measured against the clean photo.

Each clean photo (the test fixtures, a cat and a person, and a held-out grey photo of a
cameraman that no constant was chosen on) is degraded in known ways with fixed seeds: scratches, dust, film grain (noise), fading with a colour cast, blur. For each, the
degraded photo, OpenCV's plain ``fastNlMeansDenoisingColored`` (its default arguments) run on
it, and ours (``generation.engines.restore.restore_image``) are scored against the clean photo
by PSNR (dB, RGB) and SSIM (lightness, 11×11 Gaussian window).

Targets (issue 11): ours beats the degraded photo by ≥ 3 dB PSNR on average and on every type,
and beats the plain denoiser; on the tuning photos, and reported apart on the held-out one.
A clean photo must come back nearly unchanged: ours against it, last.

Then the time for a 12-megapixel photo (4000×3000): ours and the plain denoiser, alternating,
``--runs`` each; the medians, their min–max and the ratio.

    .venv/bin/python bench/restore.py [--runs 3] [--no-timing]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petmemories.settings.local")
import django  # noqa: E402

django.setup()

from generation.engines.restore import restore_image  # noqa: E402

PHOTOS = [ROOT / "tests" / "cat.jpg", ROOT / "tests" / "person.jpg"]
# Held out: a grey photo never used for choosing the engine's constants; its rows say whether
# they carry over to a photo they were not tuned on.
HELD_OUT = [ROOT / "tests" / "cameraman.jpg"]


def load(path: Path, side: int | None = None) -> np.ndarray:
    """The photo at its own size (scored so: an enlarged photo is softer than any real one), or
    resized to ``side`` on its long side (for timing)."""
    image = Image.open(path).convert("RGB")
    if side is None:
        return np.asarray(image)
    scale = side / max(image.size)
    return np.asarray(image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS))


def scratches(rgb, rng):
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for _ in range(14):
        x = int(rng.integers(0, w))
        top, bottom = sorted(rng.integers(0, h, size=2))
        shade = (235, 235, 230) if rng.random() < 0.6 else (25, 25, 25)
        cv2.line(out, (x, int(top)), (x + int(rng.integers(-40, 40)), int(bottom)), shade, int(rng.integers(1, 3)), cv2.LINE_AA)
    return out


def dust(rgb, rng):
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for _ in range(500):
        shade = (240, 240, 236) if rng.random() < 0.7 else (20, 20, 20)
        cv2.circle(out, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 3)), shade, -1, cv2.LINE_AA)
    return out


def noise(rgb, rng):
    """Film grain: Gaussian, σ 14 levels per channel, a little coarser than a pixel."""
    grain = cv2.GaussianBlur(rng.normal(0, 14, rgb.shape).astype(np.float32), (0, 0), 0.6) * 1.6
    return np.clip(rgb + grain, 0, 255).astype(np.uint8)


def fading(rgb, rng):
    tint = np.array([232, 208, 160], np.float32)  # a yellowed, faded print
    return np.clip(rgb * 0.62 + tint * 0.38, 0, 255).astype(np.uint8)


def blur(rgb, rng):
    return cv2.GaussianBlur(rgb, (0, 0), 1.6)


DEGRADATIONS = {"scratches": scratches, "dust": dust, "noise": noise, "fading": fading, "blur": blur}


def psnr(a, b) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


def ssim(a, b) -> float:
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def window(z):
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = window(x), window(y)
    vx, vy, cov = window(x * x) - mx * mx, window(y * y) - my * my, window(x * y) - mx * my
    return float(np.mean(((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def plain(rgb):
    return cv2.fastNlMeansDenoisingColored(rgb)


def scores_of(path: Path, seed: int) -> dict[str, np.ndarray]:
    """Per degradation, PSNR and SSIM of (degraded, plain NLM, ours): an array (candidate, metric)."""
    clean = load(path)
    rows = {}
    for number, (name, degrade) in enumerate(DEGRADATIONS.items()):
        degraded = degrade(clean, np.random.default_rng(seed + number))
        rows[name] = np.array([(psnr(clean, candidate), ssim(clean, candidate)) for candidate in (degraded, plain(degraded), restore_image(degraded))])
    return rows


def table(rows: dict[str, np.ndarray], indent: str = "") -> bool:
    """Prints one row per degradation and their average; whether the target is met."""
    print(f"{indent}{'degradation':12s} {'degraded':>15s} {'plain NLM':>15s} {'ours':>15s} {'ours−degraded':>14s} {'ours−plain':>11s}")
    average = np.mean(list(rows.values()), axis=0)
    for name, mean in [*rows.items(), ("average", average)]:
        gain, over_plain = mean[2, 0] - mean[0, 0], mean[2, 0] - mean[1, 0]
        print(f"{indent}{name:12s} " + " ".join(f"{p:7.2f} / {s:.3f}" for p, s in mean) + f" {gain:+13.2f} {over_plain:+10.2f}")
    return all(mean[2, 0] - mean[0, 0] >= 3 and mean[2, 0] > mean[1, 0] for mean in [*rows.values(), average])


def describe(paths: list[Path]) -> str:
    return ", ".join(f"{path.name} {Image.open(path).width}×{Image.open(path).height}" for path in paths)


def quality() -> bool:
    target = "≥ 3 dB over degraded on every type and on average, above plain NLM on every type"
    print("Quality against the clean photo (at its own size, fixed seeds). PSNR dB (RGB) / SSIM (lightness).")
    tuned = {path: scores_of(path, 1000 * index) for index, path in enumerate(PHOTOS)}
    print(f"\nTuning photos ({describe(PHOTOS)}), the mean of the two:")
    met = table({name: np.mean([rows[name] for rows in tuned.values()], axis=0) for name in DEGRADATIONS})
    print(f"Target ({target}): {'met' if met else 'NOT met'}")
    for path, rows in tuned.items():
        print(f"\n  {path.name} alone:")
        table(rows, indent="  ")
    for index, path in enumerate(HELD_OUT, start=len(PHOTOS)):
        print(f"\nHeld out ({describe([path])}; not used for choosing constants):")
        held = table(scores_of(path, 1000 * index))
        print(f"Target ({target}): {'met' if held else 'NOT met'}")
    print("\nA clean photo (no damage), ours against itself: " + ", ".join(
        f"{path.name} {psnr(load(path), restore_image(load(path))):.2f} dB" for path in PHOTOS + HELD_OUT))
    return met


def timing(runs: int) -> None:
    big = load(PHOTOS[0], 4000)
    big = big[: 3000] if big.shape[0] >= 3000 else cv2.resize(big, (4000, 3000), interpolation=cv2.INTER_LANCZOS4)
    photo = noise(big, np.random.default_rng(7))
    ours, theirs = [], []
    for _ in range(runs):  # alternating, so a busy moment falls on both
        started = time.perf_counter()
        restore_image(photo)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        plain(photo)
        theirs.append(time.perf_counter() - started)
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"12 MP ({photo.shape[1]}×{photo.shape[0]}), {runs} alternating runs, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}:")
    print(f"  ours      median {statistics.median(ours):6.2f} s (min {min(ours):.2f}, max {max(ours):.2f})")
    print(f"  plain NLM median {statistics.median(theirs):6.2f} s (min {min(theirs):.2f}, max {max(theirs):.2f})")
    print(f"  ratio ours / plain: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    quality()
    if not args.no_timing:
        timing(args.runs)


if __name__ == "__main__":
    main()
