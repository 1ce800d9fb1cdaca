"""The colorize engines (colorize, restore+colorize), run on the CPU with a tiny random-weight
DDColor.

The model is built here at a tiny size with fixed seeds and saved as the model hub has the
published ones (config.json and the weights), into ``<GENERATION_MODELS_DIR>/colorize/``, so the
engines load it exactly as they would load the real weights, with no network.
"""
import io
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from generation.engines import colorize, ddcolor, get_engine, torch_runtime
from generation.models import Job
from generation.photos import photo_normalize
from generation.services import job_create
from tests.conftest import CAT_PHOTO, ROOT, run_job

PERSON = ROOT / "tests" / "person.jpg"
CAMERAMAN = ROOT / "tests" / "cameraman.jpg"  # a black-and-white photo, one channel
# A DDColor small enough to run in a fraction of a second: every part of the architecture,
# one block per encoder stage, four colour queries, three decoder layers, 64 × 64 input.
TINY = {
    "encoder_name": "convnext-t", "input_size": [64, 64], "nf": 32, "num_output_channels": 2, "last_norm": "Spectral",
    "num_queries": 4, "num_scales": 3, "dec_layers": 3, "encoder_depths": [1, 1, 1, 1], "encoder_dims": [8, 16, 24, 32],
    "hidden_dim": 16, "nheads": 2, "dim_feedforward": 32,
}
# The published models' config (the constructor's arguments that DDColor's own loading code
# passes for a 512-pixel MultiScaleColorDecoder model).
PAPER = {
    "encoder_name": "convnext-l", "decoder_name": "MultiScaleColorDecoder", "input_size": [512, 512], "num_output_channels": 2,
    "last_norm": "Spectral", "do_normalize": False, "num_queries": 100, "num_scales": 3, "dec_layers": 9,
}


def tiny_model(seed=0) -> ddcolor.DDColor:
    torch.manual_seed(seed)
    model = ddcolor.DDColor(ddcolor.DDColorConfig.from_dict(TINY)).eval()
    # Training leaves the batch norms' statistics away from 0 and 1; so should a test model.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    # A trained model's colours span tens of a*b* units, a random one's about one: its fusion
    # layer is scaled up (the stored singular value estimate down) and given a warm tone.
    fusion = model.refine_net[0][0]
    fusion.weight_u.mul_(0.05)
    fusion.bias.data = torch.tensor([12.0, 20.0])
    return model


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    colorize.save(tiny_model(), folder / "colorize")
    return folder


@pytest.fixture
def tiny_weights(settings, tiny_models_dir):
    settings.GENERATION_MODELS_DIR = tiny_models_dir
    colorize._MODELS.clear()
    yield tiny_models_dir / "colorize"
    colorize._MODELS.clear()


def photo(path=PERSON) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def lightness(rgb: np.ndarray) -> np.ndarray:
    return colorize.lightness_of(rgb)


def chroma(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    return np.hypot(lab[..., 1], lab[..., 2])


def render(engine_name, image: Image.Image, progress=lambda fraction: None) -> Image.Image:
    engine = get_engine(engine_name)
    (result,) = engine.render_images([image], engine.settings({}), progress)
    return result


# --- The model and its weights folder -------------------------------------------------------

@pytest.mark.parametrize("safetensors, weights", [(True, "model.safetensors"), (False, "pytorch_model.bin")])
def test_the_weights_folder_round_trips_every_tensor_with_strict_loading(tmp_path, safetensors, weights):
    model = tiny_model(seed=3)
    colorize.save(model, tmp_path, safetensors=safetensors)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["config.json", weights])
    loaded = colorize.load_model(tmp_path)
    colorize._MODELS.clear()
    expected, actual = model.state_dict(), loaded.state_dict()
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
    grey = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():  # the same up to rounding (attention may take a fused kernel)
        assert torch.allclose(model(grey), loaded(grey), rtol=0, atol=1e-4)


def test_a_training_checkpoint_with_the_old_classification_head_loads_too(tmp_path):
    """The .pth files of DDColor's own releases: {"params": state dict}, from before the unused
    encoder head was dropped."""
    model = tiny_model()
    state = model.state_dict() | {"encoder.arch.head_cls.weight": torch.zeros(4, 32), "encoder.arch.head_cls.bias": torch.zeros(4)}
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    torch.save({"params": state}, tmp_path / "pytorch_model.bin")
    assert torch.equal(colorize.load(tmp_path).decoder.color_decoder.query_feat.weight, model.decoder.color_decoder.query_feat.weight)


def test_a_tensor_missing_from_the_weights_is_refused(tmp_path):
    model = tiny_model()
    state = model.state_dict()
    del state["refine_net.0.0.weight_u"]
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    torch.save(state, tmp_path / "pytorch_model.bin")
    with pytest.raises(RuntimeError, match="Missing key.*refine_net.0.0.weight_u"):
        colorize.load(tmp_path)


def test_the_paper_architecture_has_the_published_checkpoint_s_tensors():
    """ddcolor_paper (ConvNeXt-L): what DDColor's code builds for its published config.

    The counts: the encoder without its four feature norms is the ImageNet ConvNeXt without its
    classifier (ConvNeXt-L 197,767,336 parameters in timm and the ConvNeXt paper, less the
    1536×1000 head: 196,230,336; ConvNeXt-T 28,589,128 less 768×1000: 27,820,128); the whole
    model is 227.9 M parameters (DDColor's paper: 227.9 M for DDColor-L, 55.0 M for DDColor-T),
    and its 227,921,864 numbers as float32 are the 912 MB of ddcolor_paper's weights file.
    The keys are the published code's module names (ddcolor/model.py and basicsr's unet.py,
    convnext.py and transformer_utils.py): 602 tensors, among them those below."""
    config = ddcolor.DDColorConfig.from_dict(PAPER)
    with torch.device("meta"):
        model = ddcolor.DDColor(config)
    state = model.state_dict()
    encoder = sum(p.numel() for name, p in model.encoder.arch.named_parameters() if not name[:5] in {f"norm{i}" for i in range(4)})
    assert encoder == 196_230_336
    assert sum(p.numel() for p in model.parameters()) == 227_869_328
    assert sum(t.numel() for t in state.values()) == 227_921_864
    assert len(state) == 602
    shapes = {
        "mean": (1, 3, 1, 1),
        "encoder.arch.downsample_layers.0.0.weight": (192, 3, 4, 4),
        "encoder.arch.downsample_layers.3.1.weight": (1536, 768, 2, 2),
        "encoder.arch.stages.2.26.pwconv1.weight": (3072, 768),
        "encoder.arch.stages.3.2.gamma": (1536,),
        "encoder.arch.norm3.weight": (1536,),
        "encoder.arch.norm.weight": (1536,),
        "decoder.layers.0.shuf.conv.0.weight_orig": (2048, 1536, 1, 1),
        "decoder.layers.0.shuf.conv.1.running_var": (2048,),
        "decoder.layers.0.bn.num_batches_tracked": (),
        "decoder.layers.0.conv.0.weight_orig": (512, 1280, 3, 3),
        "decoder.layers.2.conv.2.weight": (256,),
        "decoder.last_shuf.conv.0.weight_orig": (4096, 256, 1, 1),
        "decoder.last_shuf.conv.0.weight_u": (4096,),
        "decoder.last_shuf.conv.0.bias": (4096,),
        "decoder.color_decoder.query_feat.weight": (100, 256),
        "decoder.color_decoder.level_embed.weight": (3, 256),
        "decoder.color_decoder.input_proj.2.weight": (256, 256, 1, 1),
        "decoder.color_decoder.transformer_cross_attention_layers.8.multihead_attn.in_proj_weight": (768, 256),
        "decoder.color_decoder.transformer_self_attention_layers.8.self_attn.out_proj.weight": (256, 256),
        "decoder.color_decoder.transformer_ffn_layers.8.linear1.weight": (2048, 256),
        "decoder.color_decoder.color_embed.layers.2.weight": (256, 256),
        "refine_net.0.0.weight_orig": (2, 103, 1, 1),
        "refine_net.0.0.weight_v": (103,),
    }
    assert {key: tuple(state[key].shape) for key in shapes} == shapes
    assert not any(key.startswith("encoder.arch.head") for key in state)


def test_the_tiny_published_model_has_convnext_t_inside():
    with torch.device("meta"):
        model = ddcolor.DDColor(ddcolor.DDColorConfig.from_dict({**PAPER, "encoder_name": "convnext-t"}))
    encoder = sum(p.numel() for name, p in model.encoder.arch.named_parameters() if not name[:5] in {f"norm{i}" for i in range(4)})
    assert encoder == 27_820_128
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 55.0


# --- Colorizing -----------------------------------------------------------------------------

def test_a_colorized_photo_keeps_its_size_and_lightness_and_gains_colour(tiny_weights):
    grey = np.repeat(np.asarray(Image.open(CAMERAMAN))[:, :400, None], 3, axis=2)  # not square: 512 high, 400 wide
    seen = []
    result = np.asarray(render("colorize", Image.fromarray(grey), seen.append))
    assert result.shape == grey.shape and result.dtype == np.uint8
    difference = np.abs(lightness(result) - lightness(grey))
    # L* (0–100): 8-bit rounding only, up to about one L* unit per step in the shadows.
    assert difference.mean() < 0.6 and difference.max() < 2
    assert chroma(result).mean() > 2  # the model's colours (random weights here)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_colours_out_of_gamut_are_toned_down_not_clipped():
    lab = np.array([[[50, 120, -120], [95, -90, 90], [5, 80, 80], [50, 0, 0]]], np.float32)
    rgb = colorize.lab_to_rgb_in_gamut(lab.copy())
    assert np.abs(lightness(rgb)[0] - lab[0, :, 0]).max() < 1
    assert (chroma(rgb)[0, :3] > 5).all() and chroma(rgb)[0, 3] < 1


def test_a_colour_photo_is_colorized_from_its_lightness_alone(tiny_weights):
    colour = photo()
    grey = np.rint(colorize.grey_rgb(lightness(colour)) * 255).astype(np.uint8)
    from_colour, from_grey = (np.asarray(render("colorize", Image.fromarray(image))) for image in (colour, grey))
    assert np.abs(from_colour.astype(int) - from_grey.astype(int)).mean() < 1.5


def test_a_one_channel_and_a_three_channel_grey_photo_give_the_same_colours(tiny_weights):
    single = Image.open(CAMERAMAN)
    assert single.mode == "L"
    one, three = (np.asarray(render("colorize", image)) for image in (single, single.convert("RGB")))
    assert one.shape == three.shape == (512, 512, 3)
    assert np.array_equal(one, three)


def test_the_model_is_loaded_once_per_process(tiny_weights, monkeypatch):
    loads = []
    original = colorize.load
    monkeypatch.setattr(colorize, "load", lambda *args, **kwargs: loads.append(args) or original(*args, **kwargs))
    image = Image.open(CAMERAMAN).resize((256, 256))
    first, second = render("colorize", image), render("colorize", image)
    assert len(loads) == 1
    assert np.array_equal(np.asarray(first), np.asarray(second))


def test_restore_then_colorize_reports_progress_to_the_end_and_can_enlarge(tiny_weights):
    engine, seen = get_engine("restore+colorize"), []
    (result,) = engine.render_images([Image.open(CAMERAMAN).resize((300, 200))], engine.settings({"upscale": 2}), seen.append)
    assert result.size == (600, 400) and result.mode == "RGB"
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(fraction <= colorize.RESTORE_SHARE for fraction in seen)


# --- Readiness ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_without_weights_the_engines_are_not_ready_and_say_how_to_get_them(settings, tmp_path, name):
    settings.GENERATION_MODELS_DIR = tmp_path
    readiness = get_engine(name).readiness()
    assert not readiness.ready
    assert readiness.reason == f"no weights in {tmp_path / 'colorize'}; run `manage.py engines download colorize`"
    (tmp_path / "colorize").mkdir()
    (tmp_path / "colorize" / "config.json").write_text("{}")
    assert not get_engine(name).readiness().ready  # a config without weights is not enough


@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_without_torch_the_engines_are_not_ready(tiny_weights, monkeypatch, name):
    real_find_spec = torch_runtime.importlib.util.find_spec
    monkeypatch.setattr(torch_runtime.importlib.util, "find_spec", lambda package, *args: None if package == "torch" else real_find_spec(package, *args))
    assert get_engine(name).readiness().reason == "torch is not installed (pip install -r requirements-gpu.txt)"


@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_with_weights_the_engines_are_ready_on_a_cpu_worker(tiny_weights, settings, name):
    settings.GENERATION_ALLOW_CPU = False  # that switch is the GPU engines'; these run on the CPU anyway
    assert get_engine(name).readiness().ready
    assert get_engine(name).queue == "cpu"


# --- Through the product's own job path ----------------------------------------------------

@pytest.fixture
def stored_photo(db):
    with CAMERAMAN.open("rb") as handle:
        normalized = photo_normalize(handle)
    return default_storage.save("photos/test/cameraman.jpg", ContentFile(normalized.jpeg))


@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_a_job_keeps_the_colorized_photo_as_a_png_and_a_jpeg_poster(tiny_weights, stored_photo, user, name):
    job = run_job(job_create(engine=name, inputs=[stored_photo], params={}, owner=user).pk)
    assert job.state == Job.State.SUCCEEDED, job.error_detail or job.error
    assert [(o.kind, o.width, o.height, o.extension) for o in job.outputs.all()] == [("image", 512, 512, "png"), ("poster", 512, 512, "jpg")]
    for output, image_format in zip(job.outputs.all(), ("PNG", "JPEG"), strict=True):
        with output.file.open("rb") as handle, Image.open(handle) as image:
            assert (image.format, image.mode, image.size) == (image_format, "RGB", (512, 512))
            assert chroma(np.asarray(image)).mean() > 2


def test_a_job_is_refused_at_submission_without_weights(settings, tmp_path, stored_photo, user):
    from generation.engines import EngineError

    settings.GENERATION_MODELS_DIR = tmp_path
    with pytest.raises(EngineError, match="not available right now: no weights in"):
        job_create(engine="colorize", inputs=[stored_photo], params={}, owner=user)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_a_colorized_photo_is_shown_before_and_after_and_can_be_brought_to_life(tiny_weights, owner_client, user, django_capture_on_commit_callbacks, name):
    from studio.models import Creation

    buffer = io.BytesIO(CAMERAMAN.read_bytes())
    buffer.name = "grandpa.jpg"
    response = owner_client.post(reverse("studio:creation-new"), {"photo": buffer, "engine": name, "aspect_ratio": "1:1", "title": "Grandpa"})
    assert response.status_code == 302, response.context["form"].errors
    creation = Creation.objects.get()
    job = run_job(creation.job_id)
    assert job.state == "succeeded", job.error_detail
    page = owner_client.get(creation.get_absolute_url()).content.decode()
    assert 'class="compare"' in page and reverse("studio:creation-media", args=[creation.pk, "photo"]) in page
    assert reverse("studio:creation-animate", args=[creation.pk]) in page
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(reverse("studio:creation-animate", args=[creation.pk]))
    living = Creation.objects.exclude(pk=creation.pk).get()
    assert response.url == living.get_absolute_url() and living.job.engine == "living-photo"


# --- manage.py restore and engines download -------------------------------------------------

@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_the_restore_command_colorizes_with_the_engine_asked_for(tiny_weights, tmp_path, name):
    out = tmp_path / "colour.jpg"
    call_command("restore", str(CAMERAMAN), "-o", str(out), "--engine", name)
    with Image.open(out) as written:
        assert (written.format, written.mode, written.size) == ("JPEG", "RGB", (512, 512))


@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_the_restore_command_without_weights_fails_in_one_line(tmp_path, name):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "GENERATION_MODELS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(CAT_PHOTO), "-o", str(tmp_path / "out.png"), "--engine", name],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Engine {name} is not ready: no weights in {tmp_path / 'colorize'}; run `manage.py engines download colorize`"
    ]
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("name", ["colorize", "restore+colorize"])
def test_engines_download_puts_the_hub_s_files_where_the_engine_reads_them(settings, tmp_path, monkeypatch, capsys, name):
    """The model hub's snapshot of piddnad/ddcolor_paper is config.json and pytorch_model.bin;
    a stand-in for snapshot_download writes the tiny model that way."""
    import huggingface_hub

    asked = []

    def snapshot_download(*, repo_id, local_dir, allow_patterns=None):
        asked.append((repo_id, local_dir, allow_patterns))
        colorize.save(tiny_model(), local_dir, safetensors=False)
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    settings.GENERATION_MODELS_DIR = tmp_path
    colorize._MODELS.clear()
    call_command("engines", "download", name)
    assert asked == [("piddnad/ddcolor_paper", tmp_path / "colorize", None)]  # the whole repository
    assert capsys.readouterr().out.splitlines()[-1] == f"{name}: ready"
    assert get_engine("colorize").readiness().ready and get_engine("restore+colorize").readiness().ready
    assert colorize.load_model().config == ddcolor.DDColorConfig.from_dict(TINY)
    colorize._MODELS.clear()


def test_the_photo_made_over_is_shown_against_the_photo_and_nothing_else_is(settings):
    settings.GENERATION_EXTRA_ENGINES = ["tests.engines.CollageEngine"]  # three photos in, four images out
    shown = {name: get_engine(name).before_and_after for name in ("restore", "colorize", "restore+colorize", "living-photo", "svd-xt", "test-collage")}
    assert shown == {"restore": True, "colorize": True, "restore+colorize": True, "living-photo": False, "svd-xt": False, "test-collage": False}


def test_a_config_without_an_input_size_colorizes_at_512_as_ddcolor_s_own_inference_does():
    assert ddcolor.DDColorConfig.from_dict({k: v for k, v in PAPER.items() if k != "input_size"}).size == 512
    assert ddcolor.DDColorConfig.from_dict(TINY).size == 64
