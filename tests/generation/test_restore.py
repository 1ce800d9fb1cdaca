"""The restore engine: it repairs what it should, leaves a clean photo alone, and runs as a job
and from the command line. bench/restore.py measures it on every kind of damage."""
import io

import cv2
import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from generation.engines.restore import blur_sigma, deblur, defect_mask, levels_restore, noise_sigma, restore_image
from tests.conftest import CAT_PHOTO, ROOT, run_job
from tests.generation.test_commands import run_manage

PERSON = ROOT / "tests" / "person.jpg"


def fixture(path=PERSON) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def psnr(a, b) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def scratched(rgb, seed=3):
    out, rng = rgb.copy(), np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    for _ in range(8):
        x = int(rng.integers(0, width))
        cv2.line(out, (x, 0), (x + int(rng.integers(-30, 30)), height - 1), (235, 235, 230), 1, cv2.LINE_AA)
    for _ in range(150):
        cv2.circle(out, (int(rng.integers(0, width)), int(rng.integers(0, height))), int(rng.integers(1, 3)), (240, 240, 236), -1)
    return out


def test_scratches_and_dust_are_found_and_filled_in():
    clean = fixture()
    damaged = scratched(clean)
    gray = cv2.cvtColor(damaged, cv2.COLOR_RGB2GRAY)
    found = defect_mask(gray, noise_sigma(gray)) > 0
    damage = np.any(damaged != clean, axis=2)
    assert found[damage].mean() > 0.75  # most of the damage is found…
    grown = cv2.dilate(damage.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # (the mask is grown by a pixel)
    assert found[~grown].mean() < 0.01  # …and little else
    assert psnr(clean, restore_image(damaged)) > psnr(clean, damaged) + 3


def smooth_photo(seed=0) -> np.ndarray:
    """A gently shaded grey-blue photo with a little grain and a dark band at the bottom (so its
    levels are a good print's), 240×320."""
    rows, cols = np.mgrid[0:240, 0:320].astype(np.float32)
    shade = 110 + 60 * cols / 320 + 20 * np.sin(rows / 40)
    shade[215:] = 12
    grain = np.random.default_rng(seed).normal(0, 2, (240, 320)).astype(np.float32)
    return np.clip(np.dstack([shade * 0.9, shade, shade * 1.1]) + grain[..., None], 0, 255).astype(np.uint8)


def test_a_dark_scratch_across_a_smooth_area_is_filled_in():
    clean = smooth_photo()
    damaged = clean.copy()
    cv2.line(damaged, (60, 5), (95, 200), (25, 25, 25), 2, cv2.LINE_AA)
    under = np.any(damaged != clean, axis=2)
    restored = restore_image(damaged)
    error = np.abs(restored.astype(np.float32) - clean)[under].mean()
    assert error < 8, error  # the scratch was about 120 levels darker
    assert psnr(clean, restored) > psnr(clean, damaged) + 10


def test_a_dark_outline_between_two_regions_is_left_as_it_is():
    photo = smooth_photo()
    photo[:, 160:] = (photo[:, 160:] * 0.45).astype(np.uint8)  # a darker region on the right…
    cv2.line(photo, (158, 0), (162, 210), (20, 20, 20), 2, cv2.LINE_AA)  # …outlined in near black
    outline = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(outline, (158, 0), (162, 210), 1, 2, cv2.LINE_AA)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    assert not (defect_mask(gray, noise_sigma(gray)) > 0)[outline > 0].any()
    assert np.abs(restore_image(photo).astype(np.float32) - photo)[outline > 0].mean() < 8


def test_a_clean_photo_passes_almost_unchanged():
    for path in (PERSON, CAT_PHOTO):
        clean = fixture(path)
        assert psnr(clean, restore_image(clean)) > 33, path.name


def test_a_faded_yellowed_print_gets_its_blacks_and_balance_back():
    clean = fixture()
    faded = np.clip(clean * 0.6 + np.array([232, 208, 160]) * 0.4, 0, 255).astype(np.uint8)
    restored = levels_restore(faded)
    assert psnr(clean, restored) > psnr(clean, faded) + 6

    def cast(rgb):  # how much redder than blue the picture is
        red, _green, blue = rgb.reshape(-1, 3).mean(axis=0)
        return red - blue

    assert abs(cast(restored) - cast(clean)) < abs(cast(faded) - cast(clean)) / 2
    assert np.array_equal(levels_restore(clean), clean)  # real blacks: left alone


def test_grain_is_taken_out_further_than_by_opencvs_colour_denoiser():
    clean = fixture(CAT_PHOTO)
    grain = cv2.GaussianBlur(np.random.default_rng(5).normal(0, 14, clean.shape).astype(np.float32), (0, 0), 0.6) * 1.6
    grainy = np.clip(clean + grain, 0, 255).astype(np.uint8)
    restored = restore_image(grainy)
    assert psnr(clean, restored) > psnr(clean, grainy) + 4
    assert psnr(clean, restored) > psnr(clean, cv2.fastNlMeansDenoisingColored(grainy)) + 2


def gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_a_soft_print_is_deblurred_by_about_its_measured_blur():
    sharp = fixture()
    soft = cv2.GaussianBlur(sharp, (0, 0), 1.6)
    width = blur_sigma(gray(soft))
    assert 1.3 < width < 1.9
    assert psnr(sharp, deblur(soft, width)) > psnr(sharp, soft) + 3


def test_a_soft_grainy_print_is_deblurred_without_bringing_its_grain_back():
    sharp = fixture()
    grain = cv2.GaussianBlur(np.random.default_rng(1).normal(0, 14, sharp.shape).astype(np.float32), (0, 0), 0.6) * 1.6
    soft_grainy = np.clip(cv2.GaussianBlur(sharp, (0, 0), 1.6) + grain, 0, 255).astype(np.uint8)
    assert psnr(sharp, restore_image(soft_grainy)) > psnr(sharp, soft_grainy) + 1.5


def test_a_sharp_photo_passes_the_deblur_step_unchanged():
    for path in (PERSON, CAT_PHOTO):
        sharp = fixture(path)
        width = blur_sigma(gray(sharp))
        assert width == 0, path.name
        assert np.array_equal(deblur(sharp, width), sharp)


def test_upscaling_doubles_the_size():
    assert restore_image(fixture()[:200, :300], upscale=2).shape == (400, 600, 3)


@pytest.mark.django_db
def test_an_old_photo_is_restored_as_a_job_and_shown_before_and_after(owner_client, user, django_capture_on_commit_callbacks):
    buffer = io.BytesIO()
    Image.fromarray(scratched(fixture())).save(buffer, "JPEG", quality=95)
    buffer.seek(0)
    buffer.name = "grandma.jpg"
    response = owner_client.post(reverse("studio:creation-new"), {"photo": buffer, "engine": "restore", "aspect_ratio": "1:1", "title": "Grandma"})
    assert response.status_code == 302, response.context["form"].errors
    from studio.models import Creation

    creation = Creation.objects.get()
    job = run_job(creation.job_id)
    assert job.state == "succeeded", job.error_detail
    assert [(o.kind, o.width, o.height, o.extension) for o in job.outputs.all()] == [("image", 512, 512, "png"), ("poster", 512, 512, "jpg")]
    page = owner_client.get(creation.get_absolute_url()).content.decode()
    assert 'class="compare"' in page and reverse("studio:creation-media", args=[creation.pk, "photo"]) in page
    assert reverse("studio:creation-animate", args=[creation.pk]) in page
    jpeg = owner_client.get(reverse("studio:creation-media", args=[creation.pk, "poster"]) + "?download=1")
    assert jpeg["Content-Disposition"] == 'attachment; filename="grandma.jpg"'

    # "Bring it to life": a new creation animates the restored photo.
    with django_capture_on_commit_callbacks(execute=False):
        response = owner_client.post(reverse("studio:creation-animate", args=[creation.pk]))
    living = Creation.objects.exclude(pk=creation.pk).get()
    assert response.url == living.get_absolute_url()
    assert (living.job.engine, living.title, living.owner) == ("living-photo", "Grandma", user)
    with living.photo.open("rb") as handle, Image.open(handle) as image:
        assert image.size == (512, 512)


def test_the_restore_command_writes_a_png_and_refuses_bad_input_in_one_line(tmp_path):
    out = tmp_path / "restored.png"
    result = run_manage("restore", str(PERSON), "-o", str(out), "--upscale", "2")
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (1024, 1024)
    for args, reason in [
        ((str(tmp_path / "missing.jpg"), "-o", str(out)), f"CommandError: No such file: {tmp_path / 'missing.jpg'}"),
        ((str(PERSON), "-o", str(tmp_path / "x.gif")), "CommandError: OUT must end in .png, .jpg or .jpeg."),
        ((str(PERSON), "-o", str(out), "--engine", "living-photo"), "CommandError: Engine living-photo makes videos; use `manage.py animate`."),
    ]:
        result = run_manage("restore", *args)
        assert result.returncode != 0 and result.stderr.strip().splitlines() == [reason]
