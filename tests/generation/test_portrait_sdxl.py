"""memorial-portrait-sdxl, run on the CPU with a tiny random-weight SDXL pipeline and a tiny
IP-Adapter Plus Face.

The pipeline (UNet with SDXL's text-and-time embeddings, VAE, two CLIP text encoders, the second
with a projection, tokenizers built in code), the adapter's weights in the layout of the released
file, and the CLIP image encoder are built from small configs (those of bench/diffusion.py) and
saved in the folder layout the engine reads, ``<GENERATION_MODELS_DIR>/memorial-portrait-sdxl/``
with the adapter under ``ip-adapter/`` as in ``h94/IP-Adapter``; the engine loads them as it
would the real weights, with no network.
"""
import fnmatch
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from generation.engines import EngineError, InvalidSettings, get_engine, portrait_sdxl, sdxl, torch_runtime
from generation.limits import JobLimits
from generation.management.commands.engines import weights_downloads
from generation.models import Job
from generation.photos import photo_normalize
from generation.services import job_create
from tests.conftest import CAT_PHOTO, PERSON_PHOTO, ROOT
from tests.conftest import run_job as run_queued_job
from tests.generation.tiny_sdxl import loads_counted, models_in_use, save_tiny_sdxl

NAME = "memorial-portrait-sdxl"
PERSON = Image.open(PERSON_PHOTO).convert("RGB")
# Knobs that keep a render on the tiny models to seconds: 48 × 64 generated, 410 × 512 printed.
KNOBS = {"gen_height": 64, "height": 512, "steps": 2, "count": 2}
GPU_LIMITS = JobLimits(max_height=1080, gpu_engines=True, watermark=False, priority=True)


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    save_tiny_sdxl(folder / NAME)
    return folder


@pytest.fixture
def tiny_models(settings, tiny_models_dir):
    return models_in_use(settings, tiny_models_dir)


def render(photo=PERSON, progress=lambda fraction: None, **knobs) -> list[np.ndarray]:
    engine = get_engine(NAME)
    return [np.asarray(image) for image in engine.render_images([photo], engine.settings({**KNOBS, **knobs}), progress)]


def same_up_to_rounding(a: np.ndarray, b: np.ndarray) -> bool:
    """A batch's float32 sums are added in another order than one image's: a last bit here and
    there, which the enlargement and its sharpening turn into a few levels at a few pixels."""
    return a.shape == b.shape and float(np.abs(a.astype(int) - b.astype(int)).mean()) < 0.05


# --- Readiness ------------------------------------------------------------------------------

def test_without_weights_it_is_not_ready_and_names_the_folder(settings, tmp_path):
    settings.GENERATION_MODELS_DIR = tmp_path
    settings.GENERATION_ALLOW_CPU = True
    assert get_engine(NAME).readiness().reason == f"no weights in {tmp_path / NAME}; run `manage.py engines download {NAME}`"


@pytest.mark.parametrize("part", sdxl.WEIGHTS_FILES)
def test_without_any_one_part_it_is_not_ready_and_says_which(settings, tiny_models_dir, tmp_path, part):
    import shutil

    shutil.copytree(tiny_models_dir / NAME, tmp_path / NAME)
    (tmp_path / NAME / part).unlink()
    settings.GENERATION_MODELS_DIR = tmp_path
    settings.GENERATION_ALLOW_CPU = True
    assert get_engine(NAME).readiness().reason == (
        f"incomplete weights in {tmp_path / NAME}: no {part}; run `manage.py engines download {NAME}`"
    )


def test_with_every_part_it_is_ready_and_the_faceid_add_on_switched_on_says_it_is_not_built(tiny_models, settings):
    assert get_engine(NAME).readiness().ready
    settings.GENERATION_PORTRAIT_SDXL_FACEID = True
    readiness = get_engine(NAME).readiness()
    assert not readiness.ready and readiness.reason == portrait_sdxl.FACEID_NOT_BUILT


def test_engines_download_fetches_every_part_readiness_needs_into_its_place(settings, tmp_path):
    settings.GENERATION_MODELS_DIR = tmp_path
    downloads = weights_downloads(get_engine(NAME))
    assert [download.repo for download in downloads] == ["stabilityai/stable-diffusion-xl-base-1.0", "h94/IP-Adapter"]
    for needed in sdxl.WEIGHTS_FILES:
        path = tmp_path / NAME / needed
        fetched_by = [download for download in downloads if path.is_relative_to(download.folder)
                      and any(fnmatch.fnmatch(str(path.relative_to(download.folder)), pattern) for pattern in download.allow)]
        assert fetched_by, needed
    # The checkpoint's diffusers folders, not its single-file and ONNX copies.
    assert not any(fnmatch.fnmatch(name, pattern) for pattern in downloads[0].allow
                   for name in ("sd_xl_base_1.0.safetensors", "vae_decoder/model.onnx", "unet/diffusion_pytorch_model.fp16.safetensors"))


def test_engines_download_fails_with_one_line_when_the_hub_cannot_be_reached(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")} | {
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GENERATION_MODELS_DIR": str(tmp_path / "models"),
        "DJANGO_SETTINGS_MODULE": "petmemories.settings.test",
    }
    result = subprocess.run([sys.executable, "manage.py", "engines", "download", NAME], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: Could not reach the model hub at http://127.0.0.1:9 to download stabilityai/stable-diffusion-xl-base-1.0; "
        "check the network (or HF_ENDPOINT) and try again."
    ]


# --- Knobs ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("knobs", "field"), [
    ({"attire": "tuxedo"}, "attire"), ({"backdrop": "pink"}, "backdrop"), ({"tone": "neon"}, "tone"), ({"count": 5}, "count"),
    ({"count": 0}, "count"), ({"steps": 0}, "steps"), ({"guidance": 25}, "guidance"), ({"face_strength": 2}, "face_strength"),
    ({"gen_height": 32}, "gen_height"), ({"height": 400}, "height"),
])
def test_knobs_out_of_range_are_refused_at_their_field(knobs, field):
    with pytest.raises(InvalidSettings) as refused:
        get_engine(NAME).settings(knobs)
    assert refused.value.field == field


def test_it_generates_1024_px_tall_in_the_portrait_s_shape_and_prints_twice_that_with_the_checkpoint_s_steps(settings):
    portrait = get_engine(NAME).settings({})
    assert (portrait.gen_size, portrait.size, portrait.steps, portrait.guidance, portrait.count) == ((816, 1024), (1638, 2048), 30, 6.0, 4)
    # A turbo checkpoint: the operator says so once, and every job after takes its steps.
    settings.GENERATION_PORTRAIT_SDXL_STEPS, settings.GENERATION_PORTRAIT_SDXL_GUIDANCE = 8, 2.0
    portrait = get_engine(NAME).settings({})
    assert (portrait.steps, portrait.guidance) == (8, 2.0)
    assert get_engine(NAME).settings({"steps": 12}).steps == 12
    assert get_engine(NAME).settings({"shape": "3:4"}).gen_size == (768, 1024)
    assert get_engine(NAME).settings_class.FORM_KNOBS == ("backdrop", "tone", "ribbon", "attire", "count")


def test_each_candidate_s_prompts_say_the_composition_the_attire_and_its_backdrop():
    prompt, negative = portrait_sdxl.prompts("blue", "hanbok")
    assert "head and shoulders" in prompt and "looking at the camera" in prompt
    assert "hanbok" in prompt and "blue studio backdrop" in prompt
    assert "suit" in negative and "cartoon" in negative


@pytest.mark.django_db
def test_the_upload_form_offers_the_attire_for_this_engine_alone(owner_client):
    page = owner_client.get(reverse("studio:creation-new"))
    assert page.context["form"].knob_engines["attire"] == NAME
    assert 'name="attire"' in page.content.decode()


# --- Rendering ------------------------------------------------------------------------------

def test_it_makes_count_portraits_of_the_print_size_each_seed_its_own_and_the_same_again(tiny_models):
    seen = []
    first = render(progress=seen.append)
    assert [portrait.shape for portrait in first] == [(512, 410, 3)] * 2
    assert not np.array_equal(first[0], first[1])  # seed and seed + 1, and another backdrop
    again = render()
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = render(seed=7)
    assert not np.array_equal(first[0], other[0])
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(fraction <= torch_runtime.DENOISE_SHARE for fraction in seen)


def test_a_candidate_is_the_same_whichever_batch_it_was_made_in(tiny_models):
    """The second of two candidates is the first of one made from seed + 1 on that backdrop."""
    two = render(count=2, backdrop="grey")
    one = render(count=1, backdrop="blue", seed=1)
    assert same_up_to_rounding(two[1], one[0])


def test_black_and_white_and_the_ribbon_come_from_the_cpu_portrait(tiny_models):
    plain, ribboned = render(count=1, tone="bw")[0].astype(int), render(count=1, tone="bw", ribbon=True)[0].astype(int)
    assert np.abs(plain[..., 0] - plain[..., 2]).max() <= 1 and np.abs(plain[..., 1] - plain[..., 2]).max() <= 1
    band = (slice(1, 4), slice(45, 70))  # across the top-left corner, where the satin band lies at 410 px wide
    assert ribboned[band].max() <= 50 and not np.array_equal(ribboned[band], plain[band])
    assert np.array_equal(ribboned[200:300], plain[200:300])  # the rest is the portrait


def test_the_pipeline_is_loaded_once_with_the_face_adapter(tiny_models, monkeypatch):
    from diffusers import StableDiffusionXLPipeline
    from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

    loads = loads_counted(monkeypatch, StableDiffusionXLPipeline)
    render(count=1)
    render(count=1)
    assert len(loads) == 1 and loads[0]["local_files_only"] is True
    pipeline = next(iter(torch_runtime._PIPELINES.values()))
    processors = {type(processor) for processor in pipeline.unet.attn_processors.values()}
    assert IPAdapterAttnProcessor2_0 in processors and pipeline.image_encoder is not None


def test_optimized_as_on_a_gpu_the_pipeline_with_its_face_adapter_makes_the_same_images(tiny_models, monkeypatch):
    pipeline = portrait_sdxl.SdxlWithFaceAdapter.from_pretrained(tiny_models / NAME, local_files_only=True)
    pipeline.set_progress_bar_config(disable=True)

    def images():
        return pipeline(
            prompt="a portrait", negative_prompt="a cartoon", ip_adapter_image=PERSON, width=48, height=64, num_inference_steps=2,
            guidance_scale=2.0, generator=torch_runtime.seeded_generator(0), output_type="np",
        ).images

    stock = images()
    monkeypatch.setattr(torch, "compile", lambda function, **options: function)
    with monkeypatch.context() as patch:
        patch.setattr(type(pipeline), "device", property(lambda self: torch.device("cuda")))
        torch_runtime.optimize_pipeline(pipeline)
    processors = {name.split(".")[0]: set() for name in pipeline.unet.attn_processors}
    for name, processor in pipeline.unet.attn_processors.items():
        processors[name.split(".")[0]].add(type(processor).__name__)
    # In the UNet's blocks, self-attention fused and the adapter's cross-attention kept; the
    # adapter's image projection left as it is.
    assert processors == {
        "down_blocks": {"FusedAttnProcessor2_0", "IPAdapterAttnProcessor2_0"},
        "mid_block": {"FusedAttnProcessor2_0", "IPAdapterAttnProcessor2_0"},
        "up_blocks": {"FusedAttnProcessor2_0", "IPAdapterAttnProcessor2_0"},
        "encoder_hid_proj": {"AttnProcessor2_0"},
    }
    assert all(layer.weight.is_contiguous(memory_format=torch.channels_last)
               for layer in pipeline.unet.modules() if isinstance(layer, torch.nn.Conv2d))
    assert np.allclose(images(), stock, rtol=0, atol=1e-4)


def test_out_of_gpu_memory_it_makes_the_candidates_one_at_a_time_with_the_vae_tiled(tiny_models, monkeypatch):
    from diffusers import StableDiffusionXLPipeline

    expected = render()
    batches, original = [], StableDiffusionXLPipeline.__call__

    def runs_out_on_a_batch(pipeline, *args, **kwargs):
        batches.append((len(kwargs["prompt"]), pipeline.vae.use_tiling))
        if len(kwargs["prompt"]) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")
        return original(pipeline, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionXLPipeline, "__call__", runs_out_on_a_batch)
    portraits = render()
    assert batches == [(2, False), (1, True), (1, True)]
    assert all(same_up_to_rounding(a, b) for a, b in zip(portraits, expected, strict=True))
    assert not next(iter(torch_runtime._PIPELINES.values())).vae.use_tiling  # the next job starts untiled


def test_a_photo_without_a_person_s_face_is_refused_with_the_cpu_portrait_s_reason(tiny_models):
    with pytest.raises(EngineError) as refused:
        render(Image.open(CAT_PHOTO).convert("RGB"))
    assert str(refused.value) == "We could not find a face in this photo. Choose a photo where the face is clear and looks towards the camera."


# --- Through the product's own job path ----------------------------------------------------

@pytest.fixture
def stored_person(db):
    with PERSON_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    return default_storage.save("photos/test/person.jpg", ContentFile(photo.jpeg))


def test_a_job_keeps_the_portraits_as_pngs_and_a_jpeg_poster(tiny_models, stored_person, user):
    job = job_create(engine=NAME, inputs=[stored_person], params={**KNOBS, "attire": "hanbok"}, owner=user, limits=GPU_LIMITS)
    job = run_queued_job(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.error_detail or job.error
    outputs = list(job.outputs.order_by("position"))
    assert [(o.kind, o.width, o.height, o.extension) for o in outputs] == [
        ("image", 410, 512, "png"), ("image", 410, 512, "png"), ("poster", 410, 512, "jpg"),
    ]
    for output, expected in zip(outputs, ("PNG", "PNG", "JPEG"), strict=True):
        with output.file.open("rb") as handle, Image.open(handle) as image:
            assert image.format == expected


def test_a_job_on_a_photo_without_a_face_fails_with_the_customer_s_reason(tiny_models, db, user):
    with CAT_PHOTO.open("rb") as handle:
        stored = default_storage.save("photos/test/cat.jpg", ContentFile(photo_normalize(handle).jpeg))
    job = run_queued_job(job_create(engine=NAME, inputs=[stored], params=KNOBS, owner=user, limits=GPU_LIMITS).pk)
    assert job.state == Job.State.FAILED
    assert job.error.startswith("We could not find a face in this photo.")


# --- manage.py portrait ---------------------------------------------------------------------

def portrait_command(tmp_path, models, *args, allow_cpu="1"):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "GENERATION_MODELS_DIR": str(models),
           "GENERATION_ALLOW_CPU": allow_cpu}
    return subprocess.run(
        [sys.executable, "manage.py", "portrait", str(PERSON_PHOTO), "-o", str(tmp_path / "portrait.png"), "--engine", NAME, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_the_portrait_command_says_in_one_line_that_the_engine_is_not_ready(tmp_path):
    result = portrait_command(tmp_path, tmp_path / "models")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Engine {NAME} is not ready: no weights in {tmp_path / 'models' / NAME}; run `manage.py engines download {NAME}`"
    ]


def test_the_portrait_command_runs_the_gpu_engine_when_it_is_ready(tmp_path, tiny_models_dir):
    result = portrait_command(
        tmp_path, tiny_models_dir, "--count", "2", "--attire", "plain", "--backdrop", "blue", "--steps", "2", "--gen-height", "64", "--height", "512",
    )
    assert result.returncode == 0, result.stderr
    for number in (1, 2):
        with Image.open(tmp_path / f"portrait-{number}.png") as portrait:
            assert portrait.size == (410, 512)
