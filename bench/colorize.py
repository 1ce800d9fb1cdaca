"""How long the colorize engine takes on the CPU, and how much memory, with the full-size model.

DDColor at the published paper model's size (ConvNeXt-L encoder, 100 colour queries, 512 × 512
input: 227.9 M parameters) is built with random weights: the time and memory of a forward pass
do not depend on what the weights are. It is saved in the weights folder's format and loaded
back as a worker loads it (timed once), then ``generation.engines.colorize.colorize_image``
colorizes a black-and-white photo at 512 × 512 and at 12 megapixels (4000 × 3000), alternating,
``--runs`` each. For each: the median seconds (min–max), the model's share of them (the rest is
the colour conversion at full size), and the process's peak resident memory during the run,
model included (Linux: VmHWM, reset before each run).

    .venv/bin/python bench/colorize.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
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

import torch  # noqa: E402

from generation.engines import colorize, ddcolor  # noqa: E402

PHOTO = ROOT / "tests" / "cameraman.jpg"
# What DDColor's own loading code passes for the published 512-pixel models.
PAPER = {
    "encoder_name": "convnext-l", "decoder_name": "MultiScaleColorDecoder", "input_size": [512, 512], "num_output_channels": 2,
    "last_norm": "Spectral", "do_normalize": False, "num_queries": 100, "num_scales": 3, "dec_layers": 9,
}


def peak_rss_reset() -> bool:
    """Reset the process's peak resident memory (Linux); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def photos() -> dict[str, np.ndarray]:
    grey = np.asarray(Image.open(PHOTO).convert("RGB"))
    return {
        "512×512": cv2.resize(grey, (512, 512), interpolation=cv2.INTER_AREA),
        "12 MP (4000×3000)": cv2.resize(grey, (4000, 3000), interpolation=cv2.INTER_LANCZOS4),
    }


def machine() -> str:
    return (
        f"{platform.node()} · {os.cpu_count()} CPUs ({torch.get_num_threads()} torch threads) · "
        f"{platform.processor() or platform.machine()} · torch {torch.__version__} · Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    started = time.perf_counter()
    built = ddcolor.DDColor(ddcolor.DDColorConfig.from_dict(PAPER))
    parameters = sum(p.numel() for p in built.parameters())
    build_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        colorize.save(built, Path(folder))
        size_mb = sum(path.stat().st_size for path in Path(folder).iterdir()) / 1e6
        del built
        started = time.perf_counter()
        model = colorize.load(Path(folder))
        load_seconds = time.perf_counter() - started

    cases = photos()
    colorize.colorize_image(cases["512×512"], model=model)  # warm-up: first-call allocations
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    model_seconds: dict[str, list[float]] = {name: [] for name in cases}
    peaks: dict[str, list[float]] = {name: [] for name in cases}
    resettable = peak_rss_reset()
    for _ in range(args.runs):  # alternating, so a busy moment of the machine falls on both
        for name, photo in cases.items():
            marks = {}
            peak_rss_reset()
            started = time.perf_counter()
            colorize.colorize_image(photo, model=model, progress=lambda fraction, marks=marks: marks.setdefault(fraction, time.perf_counter()))
            seconds[name].append(time.perf_counter() - started)
            model_seconds[name].append(marks[0.8] - marks[0.1])
            peaks[name].append(peak_rss_mib())

    print(f"colorize (DDColor paper size, {parameters / 1e6:.1f} M parameters, random weights) on the CPU — {machine()}")
    print(f"built in {build_seconds:.1f} s; weights file {size_mb:.0f} MB; loaded from it in {load_seconds:.1f} s")
    print(f"median of {args.runs} alternating runs; peak RSS {'during each run' if resettable else 'of the whole process (VmHWM not resettable)'}:")
    print(f"{'photo':20s} {'seconds':>8s} {'(min–max)':>14s} {'model s':>8s} {'peak RSS MiB':>13s}")
    for name in cases:
        low, high = min(seconds[name]), max(seconds[name])
        print(
            f"{name:20s} {statistics.median(seconds[name]):8.2f} {f'({low:.2f}–{high:.2f})':>14s} "
            f"{statistics.median(model_seconds[name]):8.2f} {statistics.median(peaks[name]):13.0f}"
        )


if __name__ == "__main__":
    main()
