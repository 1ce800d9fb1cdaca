"""living-photo against ffmpeg's zoompan Ken Burns, whole process against whole process.

Both make the same video from the sample cat: 4 s at 24 fps, 768×768, H.264 yuv420p at
crf 20. ffmpeg runs twice over: with x264's default preset (medium: the baseline the targets
are set against) and with the preset and motion search ours uses (veryfast, me=dia:subme=1),
so the figure also says how much of the gap is the encoder's settings and how much is ours.
The runs alternate (ffmpeg, ffmpeg same preset, ours, …) so that anything else the machine
does falls on all alike; medians are compared. The whole series runs twice, as two separate
rounds (``--rounds``), and each figure is given as the median of all runs with the min–max of
the rounds' medians: a target met in one quiet round only is not met. Each output is decoded
and checked (size, frame count) so that no side can win by doing less.

    .venv/bin/python bench/living_photo.py [--runs 7] [--rounds 2] [--json]

Targets: the whole `manage.py animate` run no slower than ffmpeg's (≤ 1.0×); the render and
encode part, timed inside the process, ≤ 0.6× ffmpeg's run; the MP4 ≤ 1.5× ffmpeg's size.
"""
from __future__ import annotations

import argparse
import compileall
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


def ffmpeg_command(out: Path, *, same_preset: bool = False) -> list[str]:
    from imageio_ffmpeg import get_ffmpeg_exe

    from generation.media import X264_PARAMS, X264_PRESET

    frames = SECONDS * FPS
    zoom = f"zoompan=z='min(zoom+0.0015,1.5)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={SIZE}x{SIZE}:fps={FPS},scale=out_range=tv,format=yuv420p"
    preset = ["-preset", X264_PRESET, "-x264-params", X264_PARAMS] if same_preset else []
    return [
        get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-loop", "1", "-i", str(PHOTO), "-vf", zoom,
        "-frames:v", str(frames), "-c:v", "libx264", "-crf", "20", *preset, "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out),
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


def one_round(runs: int, folder: Path) -> dict[str, list[float]]:
    """``runs`` alternating runs of each side; the seconds of each, by side."""
    theirs, same, ours = (Path(folder) / name for name in ("zoompan.mp4", "zoompan-same-preset.mp4", "living-photo.mp4"))
    times: dict[str, list[float]] = {"ffmpeg": [], "ffmpeg_same_preset": [], "whole": [], "inner": []}
    for _ in range(runs):
        times["ffmpeg"].append(timed(ffmpeg_command(theirs))[0])
        times["ffmpeg_same_preset"].append(timed(ffmpeg_command(same, same_preset=True))[0])
        wall, stdout = timed(ours_command(ours))
        times["whole"].append(wall)
        times["inner"].append(float(re.search(r"render\+encode seconds: ([\d.]+)", stdout).group(1)))
    for path in (theirs, same, ours):
        check(path)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="alternating runs per round")
    parser.add_argument("--rounds", type=int, default=2, help="separate rounds; each figure gives the min–max of their medians")
    parser.add_argument("--pause", type=float, default=20.0, help="seconds between rounds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    # As a deployed site has: the project's modules compiled to bytecode once, so that no run
    # compiles them again (where PYTHONDONTWRITEBYTECODE is set, every run would, 0.1 s each).
    compileall.compile_dir(str(ROOT), quiet=1, rx=re.compile(r"[/\\](\.venv|\.git|var|node_modules)([/\\]|$)"))
    rounds = []
    with tempfile.TemporaryDirectory() as folder:
        timed(ffmpeg_command(Path(folder) / "warm.mp4")), timed(ours_command(Path(folder) / "warm-ours.mp4"))  # warm the disk cache
        for index in range(args.rounds):
            if index:
                time.sleep(args.pause)
            rounds.append(one_round(args.runs, Path(folder)))
        sizes = {name: (Path(folder) / file).stat().st_size for name, file in (
            ("ffmpeg", "zoompan.mp4"), ("ffmpeg_same_preset", "zoompan-same-preset.mp4"), ("ours", "living-photo.mp4"))}

    def seconds(side: str) -> tuple[float, float, float]:
        """The median over every run, and the min and max of the rounds' medians."""
        medians = [statistics.median(times[side]) for times in rounds]
        return statistics.median([t for times in rounds for t in times[side]]), min(medians), max(medians)

    def ratio(side: str, baseline: str) -> tuple[float, float, float]:
        per_round = [statistics.median(times[side]) / statistics.median(times[baseline]) for times in rounds]
        everything = statistics.median([t for times in rounds for t in times[side]]) / statistics.median([t for times in rounds for t in times[baseline]])
        return everything, min(per_round), max(per_round)

    machine = f"{platform.node()} · {os.cpu_count()} CPUs · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
    print(f"{SECONDS} s at {FPS} fps, {SIZE}×{SIZE}; {args.rounds} rounds of {args.runs} alternating runs — {machine}")
    print("Each cell: median of all runs (min–max of the rounds' medians).")
    print(f"{'':36} {'seconds':>22} {'vs ffmpeg default':>24} {'vs ffmpeg same preset':>24}  target")

    def cell(figure: tuple[float, float, float], digits: int) -> str:
        return f"{figure[0]:.{digits}f} ({figure[1]:.{digits}f}–{figure[2]:.{digits}f})"

    rows = [
        ("ffmpeg zoompan, default preset", "ffmpeg", "baseline"),
        ("ffmpeg zoompan, our preset", "ffmpeg_same_preset", ""),
        ("manage.py animate, whole process", "whole", "≤ 1.0"),
        ("  of which render + encode", "inner", "≤ 0.6"),
    ]
    figures: dict[str, object] = {"machine": machine, "runs": args.runs, "rounds": args.rounds}
    for name, side, target in rows:
        figures[f"{side}_s"] = seconds(side)
        figures[f"{side}_ratio"] = ratio(side, "ffmpeg")
        figures[f"{side}_ratio_same_preset"] = ratio(side, "ffmpeg_same_preset")
        print(f"{name:36} {cell(figures[f'{side}_s'], 3):>22} {cell(figures[f'{side}_ratio'], 2):>24} "
              f"{cell(figures[f'{side}_ratio_same_preset'], 2):>24}  {target}")
    print(f"{'MP4 size, ours / ffmpeg crf 20':36} {sizes['ours']:>22} {sizes['ours'] / sizes['ffmpeg']:>24.2f} "
          f"{sizes['ours'] / sizes['ffmpeg_same_preset']:>24.2f}  ≤ 1.5   (ffmpeg: {sizes['ffmpeg']} and {sizes['ffmpeg_same_preset']} bytes)")
    figures["mp4_bytes"] = sizes
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
