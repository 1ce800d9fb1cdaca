"""Pastime pictures for a case: from one to three of its photos and a pastime of the catalogue,
made on the GPU queue (here: tiny random weights on the CPU, through the product's own loader),
billed as their own kind, and shown on the family's memorial page when they are done."""
import pytest
from django.urls import reverse

from generation.models import Job, JobOutput
from generation.photos import photo_normalize
from partners.models import CaseProduct, PricePlan
from partners.services import case_create, case_pastime_make, case_photo_add
from shop.models import Plan
from tests.conftest import PERSON_PHOTO, run_job
from tests.factories import client_for
from tests.generation.tiny_sdxl import models_in_use, save_tiny_sdxl

pytestmark = pytest.mark.django_db
ENGINE = "pastime-images"


@pytest.fixture(scope="module")
def tiny_models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    save_tiny_sdxl(folder / ENGINE)
    return folder


@pytest.fixture
def gpu_case(org_a, staff_a, settings, tiny_models_dir):
    models_in_use(settings, tiny_models_dir)
    org_a.price_plan = PricePlan.objects.create(name="With GPU", job_plan=Plan.objects.get(code="premium"))
    org_a.save()
    case = case_create(organisation=org_a, created_by=staff_a, name="Kim Okja", death_year=2026)
    with PERSON_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    for _ in range(2):
        case_photo_add(case=case, photo=photo, uploaded_by=staff_a)
    return case


def test_staff_make_pastime_pictures_from_the_case_photos_and_they_join_the_memorial(gpu_case, staff_a, django_capture_on_commit_callbacks):
    photos = list(gpu_case.photos.all())
    page = client_for(staff_a).get(gpu_case.get_absolute_url()).content.decode()
    assert reverse("partners:case-pastime-make", args=[gpu_case.pk]) in page and 'value="fishing"' in page
    with django_capture_on_commit_callbacks(execute=True):
        product = case_pastime_make(case=gpu_case, photos=photos, pastime="fishing", made_by=staff_a, params={"height": 64, "steps": 2, "count": 3})
    job = product.creation.job
    assert (product.kind, job.engine, job.inputs.count()) == (CaseProduct.Kind.PASTIME, ENGINE, 2)
    assert job.params["pastime"] == "fishing" and "lake" in job.params["prompt"]  # copied from the catalogue
    with django_capture_on_commit_callbacks(execute=True):  # the job's end is told after commit
        run_job(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error_detail
    images = set(job.outputs.filter(kind=JobOutput.Kind.IMAGE))
    assert len(images) == 3 and set(gpu_case.memorial.pastimes.all()) == images


def test_the_form_takes_one_to_three_of_this_case_s_photos(gpu_case, staff_a, org_b, staff_b):
    from partners.services import case_create as other_case_create

    url = reverse("partners:case-pastime-make", args=[gpu_case.pk])
    photo = gpu_case.photos.first()
    client = client_for(staff_a)
    assert client.post(url, {"photos": [], "pastime": "golf"}).status_code == 400
    assert client.post(url, {"photos": [photo.pk], "pastime": "no-such-pastime"}).status_code == 400
    theirs = other_case_create(organisation=org_b, created_by=staff_b, name="Lee")
    with PERSON_PHOTO.open("rb") as handle:
        their_photo = case_photo_add(case=theirs, photo=photo_normalize(handle), uploaded_by=staff_b)
    assert client.post(url, {"photos": [their_photo.pk], "pastime": "golf"}).status_code == 400
    assert not CaseProduct.objects.exists()
    response = client.post(url, {"photos": [photo.pk], "pastime": "golf"}, follow=True)
    assert "The pastime pictures are being made" in response.content.decode()
    assert CaseProduct.objects.get().creation.job.params["pastime"] == "golf"


def test_an_organisation_whose_plan_has_no_gpu_is_told_why(gpu_case, staff_a, org_a):
    org_a.price_plan.job_plan = Plan.objects.get(code="free")
    org_a.price_plan.save()
    response = client_for(staff_a).post(
        reverse("partners:case-pastime-make", args=[gpu_case.pk]), {"photos": [gpu_case.photos.first().pk], "pastime": "golf"}, follow=True,
    )
    assert "They cannot be made right now" in response.content.decode()
    assert not CaseProduct.objects.exists()


def test_the_living_video_can_be_made_on_a_gpu_engine_the_plan_includes(gpu_case, staff_a, settings, org_a):
    """The case page offers the video engines as the memorial page does: the GPU ones by the
    organisation's plan (here Premium's; not ready without weights, so shown with the reason)."""
    import html

    from generation.engines import get_engine
    from memorials.services import memorial_update
    from tests.factories import finished_job_make

    portrait = finished_job_make(owner=org_a.account).outputs.get(position=0)
    memorial_update(memorial=gpu_case.memorial, name=gpu_case.memorial.name, portrait=portrait)
    page = html.unescape(client_for(staff_a).get(gpu_case.get_absolute_url()).content.decode())
    assert 'value="living-photo" selected' in page and "Stable Video Diffusion XT — unavailable: no weights" in page
    url = reverse("partners:case-animate", args=[gpu_case.pk])
    assert client_for(staff_a).post(url, {"engine": "pastime-images"}).status_code == 400  # not a video engine
    client_for(staff_a).post(url, {"engine": "living-photo"})
    job = CaseProduct.objects.get(kind=CaseProduct.Kind.VIDEO).creation.job
    assert job.engine == "living-photo" and job.params["motion"] == get_engine("living-photo").portrait_params["motion"]


def test_a_portrait_can_be_made_with_sdxl_where_the_plan_and_the_workers_allow(gpu_case, staff_a, org_a, settings, tmp_path):
    import html

    settings.GENERATION_MODELS_DIR = tmp_path  # no SDXL portrait weights here
    page = html.unescape(client_for(staff_a).get(gpu_case.get_absolute_url()).content.decode())
    assert 'value="memorial-portrait" selected' in page and 'value="memorial-portrait-sdxl" disabled' in page
    url = reverse("partners:case-product-make", args=[gpu_case.pk])
    response = client_for(staff_a).post(url, {"photo": gpu_case.photos.first().pk, "engine": "memorial-portrait-sdxl"}, follow=True)
    assert "It cannot be made right now" in html.unescape(response.content.decode())
    assert client_for(staff_a).post(url, {"photo": gpu_case.photos.first().pk, "engine": "living-photo"}).status_code == 400
    assert not CaseProduct.objects.exists()
    client_for(staff_a).post(url, {"photo": gpu_case.photos.first().pk, "engine": "restore"})
    assert CaseProduct.objects.get().kind == CaseProduct.Kind.IMAGE
