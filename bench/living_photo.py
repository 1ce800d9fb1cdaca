"""living-photo against ffmpeg's zoompan Ken Burns, whole process against whole process.

Both make the same video from the sample cat: 4 s at 24 fps, 768×768, H.264 yuv420p at
crf 20. The runs alternate (ffmpeg, ours, ffmpeg, ours, …) so that anything else the machine
does falls on both alike; the medians are compared. Each output is decoded and checked
(size, frame count) so that neither side can win by doing less.

    .venv/bin/python bench/living_photo.py [--runs 7] [--json]

Targets: the whole `manage.py animate` run no slower than ffmpeg's (≤ 1.0×); the render and
encode part, timed inside the process, ≤ 0.6× ffmpeg's run; the MP4 ≤ 1.5× ffmpeg's size.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTO = ROOT / "tests" / "cat.jpg"
SIZE, SECONDS, FPS = 768, 4, 24


def ffmpeg_command(out: Path) -> list[str]:
    from imageio_ffmpeg import get_ffmpeg_exe

    frames = SECONDS * FPS
    zoom = f"zoompan=z='min(zoom+0.0015,1.5)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={SIZE}x{SIZE}:fps={FPS},scale=out_range=tv,format=yuv420p"
    return [
        get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-i", str(PHOTO), "-vf", zoom,
        "-frames:v", str(frames), "-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out),
    ]


def ours_command(out: Path) -> list[str]:
    return [
        sys.executable, str(ROOT / "manage.py"), "animate", str(PHOTO), "-o", str(out), "--seconds", str(SECONDS),
        "--fps", str(FPS), "--aspect", "1:1", "--height", str(SIZE), "--timings",
    ]


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.local"})
    return time.perf_counter() - started, result.stdout


def check(path: Path) -> None:
    from generation.media import probe_video

    info = probe_video(path)
    expected = (SIZE, SIZE, SECONDS * FPS, "h264", "yuv420p")
    got = (info.width, info.height, info.frame_count, info.codec, info.pix_fmt)
    if got != expected:
        raise SystemExit(f"{path.name}: expected {expected}, got {got}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    ffmpeg_times, our_times, inner_times = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        theirs, ours = Path(folder) / "zoompan.mp4", Path(folder) / "living-photo.mp4"
        timed(ffmpeg_command(theirs)), timed(ours_command(ours))  # warm the disk cache
        for _ in range(args.runs):
            ffmpeg_times.append(timed(ffmpeg_command(theirs))[0])
            wall, stdout = timed(ours_command(ours))
            our_times.append(wall)
            inner_times.append(float(re.search(r"render\+encode seconds: ([\d.]+)", stdout).group(1)))
        check(theirs), check(ours)
        sizes = theirs.stat().st_size, ours.stat().st_size

    baseline = statistics.median(ffmpeg_times)
    figures = {
        "machine": f"{platform.node()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()} · Python {platform.python_version()}",
        "runs": args.runs,
        "ffmpeg_zoompan_s": round(baseline, 3),
        "animate_whole_s": round(statistics.median(our_times), 3),
        "animate_render_encode_s": round(statistics.median(inner_times), 3),
        "ffmpeg_mp4_bytes": sizes[0],
        "animate_mp4_bytes": sizes[1],
    }
    rows = [
        ("ffmpeg zoompan, whole process", baseline, 1.0, "baseline"),
        ("manage.py animate, whole process", figures["animate_whole_s"], figures["animate_whole_s"] / baseline, "≤ 1.0"),
        ("  of which render + encode", figures["animate_render_encode_s"], figures["animate_render_encode_s"] / baseline, "≤ 0.6"),
    ]
    print(f"{SECONDS} s at {FPS} fps, {SIZE}×{SIZE}, median of {args.runs} alternating runs — {figures['machine']}")
    print(f"{'':36} {'seconds':>8} {'ratio':>7}  target")
    for name, seconds, ratio, target in rows:
        print(f"{name:36} {seconds:8.3f} {ratio:7.2f}  {target}")
    print(f"{'MP4 size, ours / ffmpeg crf 20':36} {sizes[1]:>8} {sizes[1] / sizes[0]:7.2f}  ≤ 1.5   (ffmpeg: {sizes[0]} bytes)")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
