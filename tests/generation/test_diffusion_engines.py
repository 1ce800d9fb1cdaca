"""The GPU engines (svd-xt, cogvideox-i2v), run on the CPU with tiny random-weight pipelines.

The pipelines are built here from small configs with fixed seeds and saved in diffusers' folder
format, so the engines load them exactly as they would load the real weights: from
``<GENERATION_MODELS_DIR>/<engine name>/``, with no network.
"""
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generation import media
from generation.engines import EngineError, InvalidSettings, cogvideox_i2v, get_engine, svd_xt, torch_runtime
from generation.engines.base import crop_to_aspect
from generation.limits import JobLimits
from generation.models import Job
from generation.photos import photo_normalize
from generation.services import job_create
from tests.conftest import CAT_PHOTO, ROOT
from tests.conftest import run_job as run_queued_job

CAT = Image.open(CAT_PHOTO).convert("RGB")
# Knobs that keep a render on the tiny models to about a second.
SVD_KNOBS = {"aspect": "1:1", "height": 128, "num_frames": 4, "steps": 2, "gen_width": 64, "gen_height": 64}
COG_KNOBS = {"aspect": "16:9", "height": 144, "num_frames": 9, "steps": 2}


def tiny_svd_pipeline():
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        in_channels=8,  # the noisy latents beside the photo's latents
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,  # the image encoder's projection
        num_attention_heads=4,
        addition_time_embed_dim=16,
        projection_class_embeddings_input_dim=48,  # fps, motion bucket, noise: 3 × 16
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"), latent_channels=4
    )
    torch.manual_seed(0)
    # 224 pixels: the pipeline resizes the photo to that for CLIP whatever the config says.
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            image_size=224, patch_size=32, hidden_size=32, projection_dim=32, num_hidden_layers=2,
            num_attention_heads=4, intermediate_size=48,
        )
    )
    scheduler = EulerDiscreteScheduler(
        prediction_type="v_prediction", interpolation_type="linear", timestep_type="continuous",
        use_karras_sigmas=True, sigma_min=0.002, sigma_max=700.0, steps_offset=1, timestep_spacing="leading",
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
    )
    return StableVideoDiffusionPipeline(
        unet=unet, vae=vae, image_encoder=image_encoder, scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(size=224, crop_size=224),
    )


def tiny_cogvideox_pipeline():
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXImageToVideoPipeline,
        CogVideoXTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    words = "a pet cat dog gently breathing and blinking looking around soft natural light subtle motion".split()
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {word: index for index, word in enumerate(words, start=3)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=len(vocab), d_model=32, d_kv=8, d_ff=48, num_layers=2, num_heads=4, relative_attention_num_buckets=8)
    )
    torch.manual_seed(0)
    # Learned positional embeddings, as in CogVideoX-5b-I2V: this model generates at one size,
    # 8 latent pixels × the VAE's 8 = 64 × 64.
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,  # RoPE needs a multiple of 16
        in_channels=8,  # the noisy latents beside the photo's latents
        out_channels=4,
        time_embed_dim=4,
        text_embed_dim=32,  # T5's d_model
        num_layers=1,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    return CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae, scheduler=CogVideoXDDIMScheduler()
    )


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    tiny_svd_pipeline().save_pretrained(folder / "svd-xt")
    tiny_cogvideox_pipeline().save_pretrained(folder / "cogvideox-i2v")
    return folder


@pytest.fixture
def tiny_models(settings, tiny_models_dir):
    settings.GENERATION_MODELS_DIR = tiny_models_dir
    settings.GENERATION_ALLOW_CPU = True
    return tiny_models_dir


def render(engine_name, knobs, progress=lambda fraction: None):
    engine = get_engine(engine_name)
    return list(engine.render(CAT, engine.settings(knobs), progress))


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def sharpness(pixels: np.ndarray) -> float:
    """Mean difference between neighbouring pixels across: low for a blurred area."""
    return float(np.abs(np.diff(pixels, axis=1)).mean())


@pytest.fixture
def stored_photo(db):
    """The cat, cleaned and stored as an upload is."""
    with CAT_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    return default_storage.save("photos/test/chelsea.jpg", ContentFile(photo.jpeg))


# What a Premium plan allows: the GPU engines.
GPU_LIMITS = JobLimits(max_height=1080, gpu_engines=True, watermark=False, priority=True)


def run_job(engine, source, params, owner) -> Job:
    job = job_create(engine=engine, inputs=[source], params=params, owner=owner, limits=GPU_LIMITS)
    return run_queued_job(job.pk)


# --- Readiness ------------------------------------------------------------------------------

def test_the_web_process_starts_without_importing_torch(tmp_path):
    code = (
        "import sys, django; django.setup(); import generation.engines, generation.management.commands.engines; "
        "from generation.engines import all_engines; [engine.readiness() for engine in all_engines()]; "
        "print(sorted(name for name in ('torch', 'diffusers', 'transformers') if name in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "GENERATION_MODELS_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["svd-xt", "cogvideox-i2v"])
def test_an_engine_without_weights_is_not_ready_and_names_the_folder(settings, tmp_path, name):
    settings.GENERATION_MODELS_DIR = tmp_path
    settings.GENERATION_ALLOW_CPU = True
    readiness = get_engine(name).readiness()
    assert not readiness.ready
    assert readiness.reason == f"no weights in {tmp_path / name}; run `manage.py engines download {name}`"


@pytest.mark.parametrize("name", ["svd-xt", "cogvideox-i2v"])
def test_an_engine_without_a_gpu_is_not_ready_unless_the_cpu_is_allowed(tiny_models, settings, monkeypatch, name):
    monkeypatch.setattr(torch_runtime, "cuda_available", lambda: False)
    settings.GENERATION_ALLOW_CPU = False
    assert get_engine(name).readiness().reason == "no CUDA GPU on this worker"
    settings.GENERATION_ALLOW_CPU = True
    assert get_engine(name).readiness().ready


def test_an_engine_without_the_gpu_packages_says_how_to_install_them(tiny_models, monkeypatch):
    monkeypatch.setattr(torch_runtime, "GPU_PACKAGES", (*torch_runtime.GPU_PACKAGES, "petmemories_no_such_package"))
    readiness = get_engine("svd-xt").readiness()
    assert not readiness.ready and "pip install -r requirements-gpu.txt" in readiness.reason


# --- Knobs ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, knobs, field, message",
    [
        ("svd-xt", {"steps": 0}, "steps", "Denoising steps must be between 1 and 100"),
        ("svd-xt", {"num_frames": 26}, "num_frames", "Number of frames must be between 2 and 25"),
        ("svd-xt", {"noise_aug_strength": 1.5}, "noise_aug_strength", "between 0 and 1"),
        ("svd-xt", {"decode_chunk_size": 0}, "decode_chunk_size", "between 1 and 25"),
        ("svd-xt", {"fps": 4}, "fps", "Frame rate must be between 5 and 30 fps"),
        ("svd-xt", {"motion": 256}, "motion", "Motion strength must be between 0 and 255"),
        ("svd-xt", {"gen_width": 100, "gen_height": 64}, "gen_width", "multiple of 8 pixels"),
        ("svd-xt", {"gen_width": 64}, "gen_width", "both the generation width and height"),
        ("cogvideox-i2v", {"num_frames": 13}, "num_frames", "one of 9, 17, 25, 33, 41, 49"),
        ("cogvideox-i2v", {"num_frames": 57}, "num_frames", "between 9 and 49"),
        ("cogvideox-i2v", {"guidance": 25}, "guidance", "Prompt guidance must be between 1 and 20"),
        ("cogvideox-i2v", {"steps": 101}, "steps", "between 1 and 100"),
        ("cogvideox-i2v", {"prompt": "a cat " * 100}, "prompt", "at most 500 characters"),
        ("cogvideox-i2v", {"prompt": "  "}, "prompt", "cannot be empty"),
        ("cogvideox-i2v", {"gen_width": 72, "gen_height": 48}, "gen_width", "multiple of 16 pixels"),
    ],
)
def test_knobs_out_of_range_are_refused_with_the_allowed_range(name, knobs, field, message):
    with pytest.raises(InvalidSettings, match=message) as refused:
        get_engine(name).settings(knobs)
    assert refused.value.field == field


def test_the_length_is_a_number_of_frames_not_seconds():
    settings = get_engine("svd-xt").settings({"num_frames": 14, "fps": 7, "seconds": 30})
    assert settings.frame_count == 14
    assert get_engine("cogvideox-i2v").settings({}).frame_count == 49


# --- Rendering ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, knobs", [("svd-xt", SVD_KNOBS), ("cogvideox-i2v", COG_KNOBS)])
def test_the_first_frame_is_the_photo_and_progress_runs_to_the_end(tiny_models, name, knobs):
    seen = []
    frames = render(name, knobs, seen.append)
    settings = get_engine(name).settings(knobs)
    assert len(frames) == settings.num_frames
    assert all(frame.shape == (settings.size[1], settings.size[0], 3) and frame.dtype == np.uint8 for frame in frames)
    photo = np.asarray(CAT.resize(settings.size, Image.Resampling.LANCZOS, box=crop_to_aspect(CAT, settings.aspect)))
    assert mean_abs_diff(frames[0], photo) < 0.5
    assert mean_abs_diff(frames[1], photo) > 1  # the rest is the model's (random weights here)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(fraction <= torch_runtime.DENOISE_SHARE for fraction in seen)  # denoising was reported


def test_the_pipeline_is_loaded_once_and_a_seed_gives_the_same_frames(tiny_models, monkeypatch):
    from diffusers import StableVideoDiffusionPipeline

    loads = []
    original = StableVideoDiffusionPipeline.from_pretrained

    def counting_from_pretrained(*args, **kwargs):
        loads.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(StableVideoDiffusionPipeline, "from_pretrained", counting_from_pretrained)
    torch_runtime._PIPELINES.clear()
    first, second = render("svd-xt", SVD_KNOBS), render("svd-xt", SVD_KNOBS)
    assert len(loads) == 1 and loads[0]["local_files_only"] is True
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, render("svd-xt", {**SVD_KNOBS, "seed": 7})))


# --- Through the product's own job path ----------------------------------------------------

def test_an_svd_job_makes_a_video_of_the_asked_frames_and_size(tiny_models, stored_photo, user):
    job = run_job("svd-xt", stored_photo, {**SVD_KNOBS, "fps": 8}, user)
    assert job.state == Job.State.SUCCEEDED, job.error_detail or job.error
    assert (job.video.width, job.video.height, job.video.frame_count, job.video.duration) == (128, 128, 4, 0.5)
    with job.video.file.open("rb") as handle:
        info = media.probe_video(handle)
    assert (info.codec, info.width, info.height, info.frame_count) == ("h264", 128, 128, 4)
    with job.animation.file.open("rb") as handle, Image.open(handle) as gif:
        assert gif.format == "GIF" and gif.size == (128, 128) and gif.n_frames >= 4


def test_a_cogvideox_job_makes_a_video_of_the_asked_frames_and_size(tiny_models, stored_photo, user):
    job = run_job("cogvideox-i2v", stored_photo, {**COG_KNOBS, "prompt": "a cat gently breathing"}, user)
    assert job.state == Job.State.SUCCEEDED, job.error_detail or job.error
    with job.video.file.open("rb") as handle:
        info = media.probe_video(handle)
    assert (info.width, info.height, info.frame_count) == (256, 144, 9)
    with job.animation.file.open("rb") as handle, Image.open(handle) as gif:
        assert gif.format == "GIF" and gif.size == (256, 144)


def test_a_cogvideox_job_asking_for_another_size_than_its_model_s_fails_with_the_reason(tiny_models, stored_photo, user):
    job = run_job("cogvideox-i2v", stored_photo, {**COG_KNOBS, "gen_width": 96, "gen_height": 64}, user)
    assert job.state == Job.State.FAILED
    assert job.error == "This CogVideoX model generates at 64×64 only; leave the generation size unset."


def test_a_gpu_job_is_refused_at_submission_when_the_engine_is_not_ready(settings, tmp_path, stored_photo, user):
    settings.GENERATION_MODELS_DIR = tmp_path
    with pytest.raises(EngineError, match="not available right now: no weights in"):
        job_create(engine="svd-xt", inputs=[stored_photo], params=SVD_KNOBS, owner=user, limits=GPU_LIMITS)


# --- Photo framing --------------------------------------------------------------------------

def test_a_portrait_video_on_a_landscape_canvas_shows_the_rest_of_the_photo_around_it():
    canvas, box = torch_runtime.frame_photo(CAT, "9:16", (720, 480))
    assert canvas.size == (720, 480) and box == (225, 0, 495, 480)
    crop = CAT.resize((270, 480), Image.Resampling.LANCZOS, box=crop_to_aspect(CAT, "9:16"))
    assert mean_abs_diff(np.asarray(canvas.crop(box)), np.asarray(crop)) < 3
    assert mean_abs_diff(np.asarray(canvas), np.asarray(CAT.resize((720, 480), Image.Resampling.LANCZOS))) < 3


def test_where_the_photo_has_no_more_to_show_the_canvas_is_filled_without_bars():
    narrow = CAT.crop((100, 0, 325, 300))  # 3:4
    canvas, box = torch_runtime.frame_photo(narrow, "9:16", (720, 480))
    assert box == (225, 0, 495, 480)
    crop = narrow.resize((270, 480), Image.Resampling.LANCZOS, box=crop_to_aspect(narrow, "9:16"))
    assert mean_abs_diff(np.asarray(canvas.crop(box)), np.asarray(crop)) < 3
    pixels = np.asarray(canvas).astype(np.float32)
    margin, photo = pixels[:, :box[0]], pixels[:, box[0]:box[2]]
    assert margin.mean() > 60  # the photo's colours, no black bars
    assert sharpness(margin) < sharpness(photo) / 4  # and blurred


@pytest.mark.parametrize(
    "aspect, size", [("16:9", (1024, 576)), ("9:16", (576, 1024)), ("1:1", (768, 768)), ("4:3", (768, 576)), ("3:4", (576, 768))]
)
def test_svd_generates_in_the_video_s_shape_within_its_training_pixel_budget(aspect, size):
    assert svd_xt.generation_size(aspect) == size


def fake_cogvideox(*, learned: bool):
    config = SimpleNamespace(use_learned_positional_embeddings=learned, sample_width=90, sample_height=60)
    return SimpleNamespace(transformer=SimpleNamespace(config=config), vae_scale_factor_spatial=8)


@pytest.mark.parametrize(
    "learned, knobs, size",
    [
        (True, {"aspect": "9:16"}, (720, 480)),  # CogVideoX-5b-I2V: one size; the photo is fitted in
        (True, {"gen_width": 720, "gen_height": 480}, (720, 480)),
        (False, {"aspect": "16:9"}, (720, 480)),
        (False, {"aspect": "9:16"}, (480, 720)),
        (False, {"aspect": "1:1", "gen_width": 480, "gen_height": 480}, (480, 480)),
    ],
)
def test_cogvideox_generates_at_its_model_s_size_or_the_one_asked_for(learned, knobs, size):
    settings = get_engine("cogvideox-i2v").settings(knobs)
    assert cogvideox_i2v.generation_size(fake_cogvideox(learned=learned), settings) == size


# --- Running out of GPU memory --------------------------------------------------------------

class FakeRun:
    """Raises the given errors one per call, then returns "frames"."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "frames"


@pytest.mark.parametrize("oom", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), RuntimeError("CUDA error: out of memory")])
def test_out_of_gpu_memory_lightens_once_and_retries(oom):
    run, lightened = FakeRun(oom), []
    assert torch_runtime.run_with_oom_fallback(run, lambda: lightened.append(True)) == "frames"
    assert run.calls == 2 and lightened == [True]


def test_out_of_gpu_memory_twice_fails_with_a_human_reason():
    run, lightened = FakeRun(torch.OutOfMemoryError("CUDA out of memory"), torch.OutOfMemoryError("CUDA out of memory")), []
    with pytest.raises(EngineError) as failed:
        torch_runtime.run_with_oom_fallback(run, lambda: lightened.append(True))
    assert str(failed.value) == "The GPU ran out of memory for this video. Try a shorter or smaller one."
    assert run.calls == 2 and lightened == [True]


def test_other_errors_are_not_mistaken_for_running_out_of_memory():
    run, lightened = FakeRun(RuntimeError("shapes cannot be multiplied")), []
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        torch_runtime.run_with_oom_fallback(run, lambda: lightened.append(True))
    assert run.calls == 1 and lightened == []


def test_denoising_steps_are_reported_as_the_first_part_of_the_progress():
    seen = []
    callback = torch_runtime.denoising_progress(seen.append, steps=4)
    kwargs = {"latents": "tensor"}
    assert all(callback(None, step, 999 - step, kwargs) is kwargs for step in range(4))
    assert seen == pytest.approx([0.225, 0.45, 0.675, 0.9])


# --- manage.py engines ----------------------------------------------------------------------

@pytest.mark.django_db
def test_engines_lists_the_gpu_engines_and_why_they_are_not_ready(settings, tmp_path, capsys):
    from django.core.management import call_command

    settings.GENERATION_MODELS_DIR = tmp_path
    call_command("engines")
    lines = capsys.readouterr().out.splitlines()
    gpu = [line for line in lines if line.split()[1:2] == ["gpu"]]
    assert [line.split()[0] for line in gpu] == ["svd-xt", "cogvideox-i2v", "memorial-portrait-sdxl", "pastime-images"]
    assert f"not ready: no weights in {tmp_path / 'svd-xt'}; run `manage.py engines download svd-xt`  — " in gpu[0]


def test_engines_download_fails_with_one_line_when_the_hub_cannot_be_reached(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("HF_")
    } | {
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GENERATION_MODELS_DIR": str(tmp_path / "models"),
        "DJANGO_SETTINGS_MODULE": "petmemories.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "engines", "download", "svd-xt"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: Could not reach the model hub at http://127.0.0.1:9 to download "
        "stabilityai/stable-video-diffusion-img2vid-xt; check the network (or HF_ENDPOINT) and try again."
    ]


def test_engines_download_refuses_an_engine_without_weights():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="living-photo needs no weights"):
        call_command("engines", "download", "living-photo")


# --- Exact speed-ups ------------------------------------------------------------------------

TINY_CALLS = {
    "svd-xt": lambda pipeline, image, **common: pipeline(image, width=64, height=64, num_frames=4, **common),
    "cogvideox-i2v": lambda pipeline, image, **common: pipeline(
        image=image, prompt="a cat gently breathing", num_frames=9, max_sequence_length=16, **common
    ),
}
TINY_BUILDS = {"svd-xt": tiny_svd_pipeline, "cogvideox-i2v": tiny_cogvideox_pipeline}
# Frames are floats in [0, 1]: 1e-4 is a fortieth of one step of an 8-bit pixel.
SAME_FRAMES = {"rtol": 0, "atol": 1e-4}


def tiny_pipeline(name):
    """A tiny pipeline built in memory and left as from_pretrained leaves one: in inference mode
    (T5's dropout off, else no two runs agree) and quiet."""
    pipeline = TINY_BUILDS[name]()
    for component in pipeline.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def tiny_frames(name, pipeline) -> np.ndarray:
    common = {"num_inference_steps": 2, "generator": torch_runtime.seeded_generator(0), "output_type": "np"}
    return TINY_CALLS[name](pipeline, CAT.resize((64, 64)), **common).frames[0]


def attention_processors(pipeline) -> set[str]:
    from diffusers.models.attention_processor import Attention

    return {type(layer.processor).__name__ for component in pipeline.components.values()
            if isinstance(component, torch.nn.Module) for layer in component.modules() if isinstance(layer, Attention)}


@pytest.fixture
def compiled(monkeypatch):
    """What torch.compile is asked to compile, with its options; nothing is compiled."""
    calls = []

    def record(function, **options):
        calls.append((function, options))
        return function

    monkeypatch.setattr(torch, "compile", record)
    return calls


def optimize_as_on_a_gpu(pipeline, monkeypatch):
    """optimize_pipeline taking its CUDA branch on this CPU: the pipeline says it is on CUDA
    while it is optimised, and runs on the CPU afterwards."""
    with monkeypatch.context() as patch:
        patch.setattr(type(pipeline), "device", property(lambda self: torch.device("cuda")))
        return torch_runtime.optimize_pipeline(pipeline)


@pytest.mark.parametrize(
    "name, fused", [("svd-xt", {"FusedAttnProcessor2_0"}), ("cogvideox-i2v", {"FusedCogVideoXAttnProcessor2_0"})]
)
def test_an_optimized_pipeline_makes_the_same_frames_with_fused_attention_projections(name, fused):
    pipeline = tiny_pipeline(name)
    stock = tiny_frames(name, pipeline)
    torch_runtime.optimize_pipeline(pipeline)
    assert attention_processors(pipeline) == fused  # every layer fused, all still PyTorch's SDPA
    assert np.allclose(tiny_frames(name, pipeline), stock, **SAME_FRAMES)


def test_on_the_cpu_the_denoiser_is_not_compiled(settings, compiled):
    from diffusers import CogVideoXTransformer3DModel, UNetSpatioTemporalConditionModel

    settings.GENERATION_TORCH_COMPILE = True
    svd, cog = (torch_runtime.optimize_pipeline(tiny_pipeline(name)) for name in ("svd-xt", "cogvideox-i2v"))
    assert type(svd.unet) is UNetSpatioTemporalConditionModel and type(cog.transformer) is CogVideoXTransformer3DModel
    assert compiled == []


def test_on_a_gpu_the_2d_convolutions_go_channels_last_and_make_the_same_frames(monkeypatch, compiled):
    pipeline = tiny_pipeline("svd-xt")
    stock = tiny_frames("svd-xt", pipeline)
    optimize_as_on_a_gpu(pipeline, monkeypatch)
    for model in (pipeline.unet, pipeline.vae):
        weights_2d = [layer.weight for layer in model.modules() if isinstance(layer, torch.nn.Conv2d)]
        weights_3d = [layer.weight for layer in model.modules() if isinstance(layer, torch.nn.Conv3d)]
        assert weights_2d and weights_3d  # SVD convolves across frames too
        assert all(weight.is_contiguous(memory_format=torch.channels_last) for weight in weights_2d)
        assert all(weight.is_contiguous() for weight in weights_3d)
    assert np.allclose(tiny_frames("svd-xt", pipeline), stock, **SAME_FRAMES)


@pytest.mark.parametrize("name", ["svd-xt", "cogvideox-i2v"])
@pytest.mark.parametrize("switched_on", [True, False])
def test_on_a_gpu_the_denoiser_is_compiled_unless_generation_torch_compile_is_off(settings, monkeypatch, compiled, name, switched_on):
    settings.GENERATION_TORCH_COMPILE = switched_on
    pipeline = optimize_as_on_a_gpu(tiny_pipeline(name), monkeypatch)
    denoiser = torch_runtime.denoiser(pipeline)
    assert denoiser is (pipeline.unet if name == "svd-xt" else pipeline.transformer)
    expected = [(denoiser._call_impl, {"fullgraph": False, "mode": "default"})] if switched_on else []
    assert compiled == expected
