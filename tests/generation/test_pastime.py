"""pastime-images and its catalogue: the engine run on the CPU with a tiny random-weight SDXL
pipeline, IP-Adapter Plus Face and pose ControlNet (tests/generation/tiny_sdxl.py), saved in the
folder layout the engine reads and loaded through the product's loader; the job path from the
service to the stored pictures; ``manage.py pastime``; the admin."""
import fnmatch
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image, ImageDraw, ImageOps

from generation.engines import EngineError, InvalidSettings, get_engine, pastime_images, sdxl, torch_runtime
from generation.limits import JobLimits
from generation.management.commands.engines import weights_downloads
from generation.models import Job, Pastime
from generation.photos import photo_normalize
from generation.services import job_create
from tests.conftest import CAT_PHOTO, PERSON_PHOTO, ROOT
from tests.conftest import run_job as run_queued_job
from tests.factories import client_for, staff_make
from tests.generation.tiny_sdxl import loads_counted, models_in_use, save_tiny_sdxl

NAME = "pastime-images"
PERSON = Image.open(PERSON_PHOTO).convert("RGB")
CAT = Image.open(CAT_PHOTO).convert("RGB")
SLUGS = ["singing", "fishing", "hiking", "golf", "cooking", "instrument", "gardening", "dancing"]
# Knobs that keep a render on the tiny models to about a second: three 64 × 64 pictures, 2 steps.
KNOBS = {"height": 64, "steps": 2, "count": 3}
SCENE = {"pastime": "singing", "prompt": "an older person singing on a stage", "negative_prompt": "cartoon"}
GPU_LIMITS = JobLimits(max_height=1080, gpu_engines=True, watermark=False, priority=True)


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    save_tiny_sdxl(folder / NAME, controlnet=pastime_images.CONTROLNET_FOLDER)
    return folder


@pytest.fixture
def tiny_models(settings, tiny_models_dir):
    return models_in_use(settings, tiny_models_dir)


@pytest.fixture
def tiny_models_without_pose(settings, tiny_models_dir, tmp_path):
    """The same weights, less the optional pose ControlNet."""
    shutil.copytree(tiny_models_dir / NAME, tmp_path / "models" / NAME, ignore=shutil.ignore_patterns(pastime_images.CONTROLNET_FOLDER))
    return models_in_use(settings, tmp_path / "models")


def pose_stored(name: str, arm_up: bool = True) -> str:
    """A stick figure in OpenPose's colours on black, saved in the default storage."""
    pose = Image.new("RGB", (96, 128))
    draw = ImageDraw.Draw(pose)
    draw.line([(48, 20), (48, 80)], fill=(255, 0, 0), width=6)
    draw.line([(48, 40), (20, 10 if arm_up else 70)], fill=(0, 255, 0), width=6)
    draw.line([(48, 80), (30, 120), (48, 80), (66, 120)], fill=(0, 0, 255), width=6)
    out = io.BytesIO()
    pose.save(out, "PNG")
    return default_storage.save(f"pastimes/poses/{name}.png", ContentFile(out.getvalue()))


def render(photos=(PERSON,), progress=lambda fraction: None, **knobs) -> list[np.ndarray]:
    engine = get_engine(NAME)
    return [np.asarray(image) for image in engine.render_images(list(photos), engine.settings({**SCENE, **KNOBS, **knobs}), progress)]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture
def calls(monkeypatch):
    """What the engine asked of the SDXL pipelines, call by call."""
    from diffusers import StableDiffusionXLControlNetPipeline, StableDiffusionXLPipeline

    seen = []
    for pipeline_class in (StableDiffusionXLPipeline, StableDiffusionXLControlNetPipeline):
        def spying(pipeline, *args, original=pipeline_class.__call__, **kwargs):
            seen.append((type(pipeline).__name__, kwargs))
            return original(pipeline, *args, **kwargs)

        monkeypatch.setattr(pipeline_class, "__call__", spying)
    return seen


# --- The catalogue --------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_catalogue_starts_with_the_eight_pastimes_each_prompt_a_realistic_scene_that_fits_clip():
    pastimes = list(Pastime.objects.all())
    assert [pastime.slug for pastime in pastimes] == SLUGS
    assert all(pastime.active and not pastime.pose for pastime in pastimes)
    for pastime in pastimes:
        # The scene first: SDXL's text encoders read 77 tokens and drop the rest.
        assert pastime.prompt.startswith("an older person ") and "realistic photograph" in pastime.prompt
        assert "cartoon" in pastime.negative_prompt
        for text in (pastime.prompt, pastime.negative_prompt):
            assert len(re.findall(r"\w+|[^\w\s]", text)) <= 70, pastime.slug
    assert Pastime.objects.get(slug="fishing").name == "Fishing at a lake" and "fishing rod" in Pastime.objects.get(slug="fishing").prompt


# --- Settings and readiness -----------------------------------------------------------------

@pytest.mark.parametrize(("knobs", "field"), [
    ({"count": 2}, "count"), ({"count": 5}, "count"), ({"steps": 0}, "steps"), ({"guidance": 25}, "guidance"),
    ({"face_strength": 2}, "face_strength"), ({"pose_strength": 3}, "pose_strength"), ({"height": 32}, "height"),
    ({"aspect": "2:1"}, "aspect"), ({"pastime": ""}, "pastime"), ({"prompt": ""}, "pastime"),
])
def test_knobs_out_of_range_and_a_missing_pastime_are_refused_at_their_field(knobs, field):
    with pytest.raises(InvalidSettings) as refused:
        get_engine(NAME).settings({**SCENE, **knobs})
    assert refused.value.field == field


def test_it_makes_four_1024_px_pictures_with_sdxl_base_s_steps_by_default_from_one_to_three_photos():
    engine = get_engine(NAME)
    settings = engine.settings(SCENE)
    assert (settings.size, settings.count, settings.steps, settings.guidance, settings.pose) == ((1024, 1024), 4, 30, 6.0, "")
    # Other shapes keep about SDXL's 1024² pixels.
    assert [engine.settings({**SCENE, "aspect": aspect}).size for aspect in ("3:4", "16:9")] == [(888, 1184), (1368, 768)]
    assert (engine.photos, engine.queue, engine.settings_class.FORM_KNOBS) == ((1, 3), "gpu", ("aspect", "pastime", "count"))


def test_without_weights_it_is_not_ready_and_names_the_folder(settings, tmp_path):
    settings.GENERATION_MODELS_DIR = tmp_path
    settings.GENERATION_ALLOW_CPU = True
    assert get_engine(NAME).readiness().reason == f"no weights in {tmp_path / NAME}; run `manage.py engines download {NAME}`"


@pytest.mark.parametrize("part", sdxl.WEIGHTS_FILES[1:])
def test_without_a_part_of_the_adapter_it_is_not_ready_and_says_which(settings, tiny_models_dir, tmp_path, part):
    shutil.copytree(tiny_models_dir / NAME, tmp_path / NAME)
    (tmp_path / NAME / part).unlink()
    settings.GENERATION_MODELS_DIR = tmp_path
    settings.GENERATION_ALLOW_CPU = True
    assert get_engine(NAME).readiness().reason == f"incomplete weights in {tmp_path / NAME}: no {part}; run `manage.py engines download {NAME}`"


def test_without_a_gpu_it_is_not_ready_and_the_pose_controlnet_is_optional(settings, tiny_models_without_pose, monkeypatch):
    assert get_engine(NAME).readiness().ready
    settings.GENERATION_ALLOW_CPU = False
    monkeypatch.setattr(torch_runtime, "cuda_available", lambda: False)
    assert get_engine(NAME).readiness().reason == "no CUDA GPU on this worker"


def test_engines_download_fetches_sdxl_the_face_adapter_and_the_apache_licensed_pose_controlnet_into_place(settings, tmp_path):
    settings.GENERATION_MODELS_DIR = tmp_path
    downloads = weights_downloads(get_engine(NAME))
    assert [download.repo for download in downloads] == ["stabilityai/stable-diffusion-xl-base-1.0", "h94/IP-Adapter", "xinsir/controlnet-openpose-sdxl-1.0"]
    needed = [*sdxl.WEIGHTS_FILES, *(f"{pastime_images.CONTROLNET_FOLDER}/{name}" for name in ("config.json", "diffusion_pytorch_model.safetensors"))]
    for name in needed:
        path = tmp_path / NAME / name
        assert [download for download in downloads if path.is_relative_to(download.folder)
                and any(fnmatch.fnmatch(str(path.relative_to(download.folder)), pattern) for pattern in download.allow)], name
    # Only the ControlNet's diffusers weights, not the repository's sample pictures or its "twins" variant.
    assert not any(fnmatch.fnmatch(name, pattern) for pattern in downloads[2].allow for name in ("masonry_real.webp", "diffusion_pytorch_model_twins.safetensors"))


# --- Rendering ------------------------------------------------------------------------------

def test_it_makes_count_pictures_each_seed_its_own_and_the_same_again(tiny_models):
    seen = []
    first = render(progress=seen.append)
    assert [picture.shape for picture in first] == [(64, 64, 3)] * 3
    assert not np.array_equal(first[0], first[1])
    assert same(render(), first)
    assert not np.array_equal(render(seed=7)[0], first[0])
    assert len(render(count=4)) == 4
    assert seen == sorted(seen) and seen[-1] == 1.0 and any(fraction <= torch_runtime.DENOISE_SHARE for fraction in seen)


def test_every_photo_s_face_is_a_reference_to_the_one_adapter_and_the_prompts_are_the_pastime_s(tiny_models, calls):
    one = render()
    two = render([PERSON, ImageOps.mirror(PERSON)])
    assert not same(one, two)
    (_name, first), (_name, second) = calls
    assert [len(references) for references in (first["ip_adapter_image"][0], second["ip_adapter_image"][0])] == [1, 2]
    assert first["prompt"] == [SCENE["prompt"]] * 3 and first["negative_prompt"] == [SCENE["negative_prompt"]] * 3
    # Each a square about the face, smaller than the photo.
    assert all(ref.width == ref.height < PERSON.height for ref in second["ip_adapter_image"][0])


def test_a_photo_without_a_face_is_left_out_and_with_none_the_customer_is_told(tiny_models):
    assert same(render([CAT, PERSON]), render([PERSON]))
    with pytest.raises(EngineError) as refused:
        render([CAT])
    assert str(refused.value).startswith("We could not find a face in this photo.")


def test_the_pose_reference_steers_the_figure_through_the_controlnet(tiny_models, calls):
    raised, lowered = pose_stored("raised"), pose_stored("lowered", arm_up=False)
    plain = render()
    with_pose = render(pose=raised)
    assert not same(with_pose, plain) and not same(render(pose=lowered), with_pose)
    assert [name for name, _kwargs in calls] == ["StableDiffusionXLPipeline", *["StableDiffusionXLControlNetPipeline"] * 2]
    pose = calls[1][1]["image"]
    assert pose.size == (64, 64) and pose.getpixel((2, 32)) == (0, 0, 0)  # fitted on black, not stretched
    assert calls[1][1]["controlnet_conditioning_scale"] == 0.8


def test_without_the_controlnet_weights_the_pose_is_not_used(tiny_models_without_pose):
    assert same(render(pose=pose_stored("raised")), render())


def test_a_pose_reference_gone_from_storage_fails_with_a_reason(tiny_models):
    with pytest.raises(EngineError) as refused:
        render(pose="pastimes/poses/gone.png")
    assert str(refused.value) == pastime_images.POSE_GONE


def test_the_pipeline_is_loaded_once_and_pictures_without_a_pose_share_its_models(tiny_models, monkeypatch):
    import torch
    from diffusers import StableDiffusionXLControlNetPipeline
    from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

    loads = loads_counted(monkeypatch, StableDiffusionXLControlNetPipeline)
    render(pose=pose_stored("raised"))
    render()
    assert len(loads) == 1 and loads[0]["local_files_only"] is True
    pipeline = next(iter(torch_runtime._PIPELINES.values()))
    assert IPAdapterAttnProcessor2_0 in {type(processor) for processor in pipeline.unet.attn_processors.values()}
    plain = pastime_images.without_controlnet(pipeline)
    assert plain.unet is pipeline.unet and plain.image_encoder is pipeline.image_encoder and not hasattr(plain, "controlnet")
    # from_pipe would cast the shared models to float32 unless told their dtype.
    pipeline.to(dtype=torch.bfloat16)
    assert pastime_images.without_controlnet(pipeline).unet.dtype == torch.bfloat16 == pipeline.unet.dtype


def test_in_a_gpu_s_half_precision_the_controlnet_is_loaded_in_the_unet_s_dtype(tiny_models):
    import torch

    pipeline = pastime_images.SdxlWithPoseAndFaces.from_pretrained(tiny_models / NAME, dtype=torch.bfloat16, local_files_only=True)
    assert pipeline.controlnet.dtype == pipeline.unet.dtype == pipeline.image_encoder.dtype == torch.bfloat16


# --- Through the product's own job path ----------------------------------------------------

def stored_photos(*images: Image.Image) -> list[str]:
    names = []
    for number, image in enumerate(images):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        out.seek(0)
        names.append(default_storage.save(f"photos/test/person-{number}.jpg", ContentFile(photo_normalize(out).jpeg)))
    return names


@pytest.mark.django_db
def test_a_job_carries_the_pastime_as_the_catalogue_had_it_and_keeps_its_pictures(tiny_models, user):
    singing = Pastime.objects.get(slug="singing")
    singing.pose = pose_stored("singing")
    singing.save()
    photos = stored_photos(PERSON, ImageOps.mirror(PERSON), PERSON.rotate(5))
    job = job_create(engine=NAME, inputs=photos, params={**KNOBS, "pastime": "singing"}, owner=user, limits=GPU_LIMITS)
    Pastime.objects.filter(slug="singing").update(prompt="changed afterwards", pose="")
    params = Job.objects.get(pk=job.pk).params
    assert (params["pastime"], params["prompt"], params["negative_prompt"], params["pose"]) == (
        "singing", singing.prompt, singing.negative_prompt, singing.pose.name,
    )
    job = run_queued_job(job.pk)
    assert job.state == Job.State.SUCCEEDED, job.error_detail or job.error
    outputs = list(job.outputs.order_by("position"))
    assert [(o.kind, o.width, o.height) for o in outputs] == [("image", 64, 64)] * 3 + [("poster", 64, 64)]
    for output in outputs:
        with output.file.open("rb") as handle, Image.open(handle) as image:
            assert image.format == ("JPEG" if output.kind == "poster" else "PNG") and image.size == (64, 64)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["karaoke", "golf", ""])
def test_a_job_for_a_pastime_not_offered_is_refused_naming_those_that_are(tiny_models, user, slug):
    Pastime.objects.filter(slug="golf").update(active=False)
    with pytest.raises(InvalidSettings) as refused:
        job_create(engine=NAME, inputs=stored_photos(PERSON), params={**KNOBS, "pastime": slug}, owner=user, limits=GPU_LIMITS)
    assert refused.value.field == "pastime"
    assert "singing, fishing, hiking, cooking, instrument, gardening, dancing" in str(refused.value)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_job_of_four_photos_is_refused(tiny_models, user):
    with pytest.raises(InvalidSettings) as refused:
        job_create(engine=NAME, inputs=stored_photos(*[PERSON] * 4), params={"pastime": "golf"}, owner=user, limits=GPU_LIMITS)
    assert str(refused.value) == "Pastime pictures (AI) takes between 1 and 3 photos."


@pytest.mark.django_db
def test_the_studio_upload_form_does_not_break_when_this_engine_is_chosen_without_a_pastime(tiny_models, owner_client, settings):
    from generation.services import job_settings

    page = owner_client.get(reverse("studio:creation-new"))
    assert page.status_code == 200 and NAME in page.content.decode()
    with pytest.raises(InvalidSettings) as refused:
        job_settings(engine=NAME, params={"aspect": "16:9"}, limits=GPU_LIMITS)
    assert refused.value.field == "pastime" and str(refused.value).startswith("Choose a pastime: singing, fishing")


@pytest.mark.django_db
def test_the_studio_upload_form_offers_the_catalogue_s_pastimes_for_this_engine_only(owner_client):
    from generation.models import Pastime
    from studio.forms import CreationForm

    Pastime.objects.filter(slug="golf").update(active=False)
    page = owner_client.get(reverse("studio:creation-new"))
    form = page.context["form"]
    slugs = [value for value, _label in form.fields["pastime"].choices if value]
    assert slugs == ["singing", "fishing", "hiking", "cooking", "instrument", "gardening", "dancing"]
    assert form.knob_engines["pastime"] == NAME
    assert 'name="pastime"' in page.content.decode()
    # The form sends the chosen pastime's slug with the engine's other knobs; the job copies the
    # prompts from the catalogue when it is made.
    form = CreationForm({"engine": NAME, "aspect_ratio": "3:4", "pastime": "fishing", "count": 3}, limits=GPU_LIMITS)
    form.is_valid()
    assert form.params() == {"aspect": "3:4", "pastime": "fishing", "count": 3}


# --- manage.py pastime ----------------------------------------------------------------------

def pastime_command(*args):
    out = io.StringIO()
    call_command("pastime", *map(str, args), stdout=out)
    return out.getvalue()


def test_the_command_exits_non_zero_with_one_line_when_the_engine_is_not_ready(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "GENERATION_MODELS_DIR": str(tmp_path / "models"), "GENERATION_ALLOW_CPU": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "pastime", str(PERSON_PHOTO), "--pastime", "singing", "-o", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: Engine {NAME} is not ready: no weights in {tmp_path / 'models' / NAME}; run `manage.py engines download {NAME}`"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("photos", "pastime", "reason"), [
    ([PERSON_PHOTO] * 4, "golf", "Pastime pictures (AI) takes between 1 and 3 photos."),
    (["missing.jpg"], "golf", "No such file: missing.jpg"),
    ([PERSON_PHOTO], "karaoke", "There is no pastime called 'karaoke'; choose one of singing, fishing, hiking, golf, cooking, instrument, gardening, dancing."),
])
def test_the_command_refuses_bad_input_with_one_line(tiny_models, tmp_path, photos, pastime, reason):
    with pytest.raises(CommandError) as refused:
        pastime_command(*photos, "--pastime", pastime, "-o", tmp_path / "out")
    assert str(refused.value) == reason
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_the_command_writes_the_pictures_into_outdir(tiny_models, tmp_path):
    written = pastime_command(PERSON_PHOTO, PERSON_PHOTO, "--pastime", "hiking", "-o", tmp_path / "out", "--count", 3, "--height", 64, "--steps", 2)
    assert written.count("Wrote ") == 3
    for number in (1, 2, 3):
        with Image.open(tmp_path / "out" / f"pastime-{number}.png") as picture:
            assert (picture.format, picture.size) == ("PNG", (64, 64))
    assert not (tmp_path / "out" / "pastime-4.png").exists()


# --- The admin ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_staff_who_may_change_pastimes_withdraw_one_and_staff_who_may_only_look_cannot():
    changelist = reverse("admin:generation_pastime_changelist")
    golf = Pastime.objects.get(slug="golf")
    viewer = client_for(staff_make("viewer@example.com", permissions=["generation.view_pastime"]))
    assert viewer.get(changelist).status_code == 200
    viewer.post(changelist, {"action": "withdraw", "_selected_action": [golf.pk]})
    assert Pastime.objects.get(slug="golf").active
    editor = client_for(staff_make("editor@example.com", permissions=["generation.view_pastime", "generation.change_pastime"]))
    assert editor.post(changelist, {"action": "withdraw", "_selected_action": [golf.pk]}).status_code == 302
    assert not Pastime.objects.get(slug="golf").active
    editor.post(changelist, {"action": "offer", "_selected_action": [golf.pk]})
    assert Pastime.objects.get(slug="golf").active


@pytest.mark.django_db
def test_staff_who_may_add_pastimes_add_one_with_a_pose_reference_kept_in_private_storage():
    out = io.BytesIO()
    Image.new("RGB", (96, 128)).save(out, "PNG")
    staff = client_for(staff_make("editor@example.com", permissions=["generation.add_pastime"]))
    response = staff.post(reverse("admin:generation_pastime_add"), {
        "name": "Painting", "slug": "painting", "prompt": "an older person painting at an easel", "negative_prompt": "cartoon",
        "pose": SimpleUploadedFile("painting.png", out.getvalue(), content_type="image/png"), "active": "on", "position": 90,
    })
    assert response.status_code == 302
    painting = Pastime.objects.get(slug="painting")
    assert painting.pose.name.startswith("pastimes/poses/") and default_storage.exists(painting.pose.name)
    assert list(Pastime.objects.values_list("slug", flat=True))[-1] == "painting"
