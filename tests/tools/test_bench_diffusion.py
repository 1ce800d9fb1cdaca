"""bench/diffusion.py runs end to end on the CPU with tiny models, so the script a GPU machine
runs is the one tested here. Its figures on the CPU say nothing about speed."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

BENCH = ROOT / "bench" / "diffusion.py"


def bench(*args: str, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", **env}
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_diffusion_bench_times_stock_and_optimized_pipelines_of_every_model_and_finds_the_same_frames():
    result = bench("--device", "cpu", "--tiny", "--runs", "1", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["device"], figures["tiny"], figures["runs"], figures["torch_compile"]) == ("cpu", True, 1, False)
    assert set(figures["models"]) == {"svd", "cog", "sdxl"}
    for model in figures["models"].values():
        for variant in ("stock", "ours"):
            assert model[variant]["median_s"] > 0 and len(model[variant]["runs_s"]) == 1
        assert model["speedup"] == pytest.approx(model["stock"]["median_s"] / model["ours"]["median_s"], rel=1e-2)
        assert model["max_abs_diff"] <= 1e-4  # frames in [0, 1]: exact up to float32 rounding
        assert model["first_step_relative_diff"] <= 1e-5


def test_the_diffusion_bench_says_in_one_line_when_there_is_no_cuda_gpu():
    result = bench("--device", "cuda", "--runs", "1", CUDA_VISIBLE_DEVICES="")  # hides any GPU
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "bench/diffusion.py: --device cuda was asked, but torch sees no CUDA GPU on this machine "
        "(use --device cpu --tiny for a smoke run)."
    ]
