"""The owner chooses the memorial's pictures among their own outputs: a memorial-portrait
candidate as the portrait, other images as pastimes, a video; and brings the portrait to life."""
import pytest
from django.urls import reverse
from PIL import Image

from generation.models import JobOutput
from memorials.models import Memorial
from memorials.services import NotYours, memorial_animate, memorial_create, memorial_update
from studio.models import Creation
from tests.conftest import run_job
from tests.factories import client_for, finished_job_make, user_make

pytestmark = pytest.mark.django_db
IMAGE, VIDEO = JobOutput.Kind.IMAGE, JobOutput.Kind.VIDEO


@pytest.fixture
def owner():
    return user_make("family@example.com")


@pytest.fixture
def stranger():
    return user_make("stranger@example.com")


def test_each_candidate_of_a_memorial_portrait_creation_can_become_the_portrait(owner, small_render_params):
    job = finished_job_make(owner=owner)
    creation = Creation.objects.create(owner=owner, title="할머니", photo="photos/x.jpg", job=job)
    page = client_for(owner).get(creation.get_absolute_url()).content.decode()
    assert page.count(reverse("memorials:portrait-choose")) == 3
    second = job.outputs.get(position=1)
    response = client_for(owner).post(reverse("memorials:portrait-choose"), {"output": second.pk})
    memorial = Memorial.objects.get(owner=owner)
    assert (memorial.name, memorial.portrait) == ("할머니", second)
    assert response.url == memorial.get_absolute_url()
    # Choosing again for that memorial changes its portrait, and makes no second memorial.
    client_for(owner).post(reverse("memorials:portrait-choose"), {"output": job.outputs.get(position=2).pk, "memorial": memorial.pk})
    assert Memorial.objects.get().portrait.position == 2


def test_nobody_can_attach_another_users_outputs(owner, stranger):
    theirs = finished_job_make(owner=stranger, kinds=[IMAGE, VIDEO])
    image, video = theirs.outputs.get(kind=IMAGE), theirs.outputs.get(kind=VIDEO)
    memorial = memorial_create(owner=owner, name="Kim")
    for pictures in ({"portrait": image}, {"pastimes": [image]}, {"video": video}):
        with pytest.raises(NotYours):
            memorial_update(memorial=memorial, name="Kim", **pictures)
    memorial.refresh_from_db()
    assert memorial.portrait is None and memorial.video is None and not memorial.pastimes.exists()
    # Through the pages too: the choice is not offered, a forged post is refused, and the files
    # are not served.
    owner_client = client_for(owner)
    assert owner_client.post(reverse("memorials:portrait-choose"), {"output": image.pk}).status_code == 404
    response = owner_client.post(reverse("memorials:edit", args=[memorial.pk]), {"name": "Kim", "portrait": image.pk, "video": video.pk})
    assert response.status_code == 400 and Memorial.objects.get().portrait is None
    assert owner_client.get(reverse("memorials:output", args=[image.pk])).status_code == 404
    # Nor can a stranger open or change the owner's memorial.
    assert client_for(stranger).get(memorial.get_absolute_url()).status_code == 404
    assert client_for(stranger).post(reverse("memorials:edit", args=[memorial.pk]), {"name": "Mine"}).status_code == 404


def test_only_portrait_engines_make_portraits_but_any_image_can_be_a_pastime(owner):
    living = finished_job_make(owner=owner, engine="living-photo", kinds=[IMAGE])
    image = living.outputs.get()
    memorial = memorial_create(owner=owner, name="Kim")
    with pytest.raises(NotYours):
        memorial_update(memorial=memorial, name="Kim", portrait=image)
    memorial_update(memorial=memorial, name="Kim", pastimes=[image])
    assert list(memorial.pastimes.all()) == [image]


def test_the_edit_page_lists_the_owners_pictures_and_saves_the_choice(owner):
    portraits = finished_job_make(owner=owner)
    videos = finished_job_make(owner=owner, engine="living-photo", kinds=[VIDEO])
    client = client_for(owner)
    page = client.get(reverse("memorials:new")).content.decode()
    for output in portraits.outputs.all():
        assert reverse("memorials:output", args=[output.pk]) in page
    chosen, pastime, video = portraits.outputs.get(position=1), portraits.outputs.get(position=2), videos.outputs.get()
    response = client.post(reverse("memorials:new"), {
        "name": "Park Mija", "birth_year": 1942, "birth_month": 3, "birth_day": 5, "death_year": 2026,
        "epitaph": "Always in our hearts", "portrait": chosen.pk, "pastimes": [pastime.pk], "video": video.pk,
    })
    memorial = Memorial.objects.get()
    assert response.url == memorial.get_absolute_url()
    assert (memorial.portrait, list(memorial.pastimes.all()), memorial.video) == (chosen, [pastime], video)
    assert client.get(reverse("memorials:output", args=[chosen.pk]))["Content-Type"] == "image/jpeg"


def test_bring_it_to_life_animates_the_chosen_portrait_and_attaches_the_video(owner, small_render_params, django_capture_on_commit_callbacks):
    job = finished_job_make(owner=owner)
    chosen = job.outputs.get(position=2)
    memorial = memorial_create(owner=owner, name="Kim", portrait=chosen)
    with django_capture_on_commit_callbacks(execute=True):
        creation = memorial_animate(memorial=memorial, params=small_render_params)
    with chosen.file.open("rb") as handle:
        chosen_pixel = Image.open(handle).convert("RGB").getpixel((160, 200))
    with creation.photo.open("rb") as handle:
        photo_pixel = Image.open(handle).convert("RGB").getpixel((160, 200))
    assert max(abs(a - b) for a, b in zip(chosen_pixel, photo_pixel, strict=True)) < 12  # the chosen candidate, not the first
    assert creation.owner == owner and creation.aspect_ratio == "3:4"
    with django_capture_on_commit_callbacks(execute=True):  # the job's end is told after commit
        run_job(creation.job_id)
    memorial.refresh_from_db()
    assert memorial.video == creation.job.outputs.get(kind=VIDEO)


def test_bring_it_to_life_needs_a_portrait(owner):
    memorial = memorial_create(owner=owner, name="Kim")
    response = client_for(owner).post(reverse("memorials:animate", args=[memorial.pk]), follow=True)
    assert "Choose the portrait first." in response.content.decode()


def test_bring_it_to_life_asks_the_engine_for_a_calm_portrait(owner, small_render_params):
    from generation.engines import get_engine

    memorial = memorial_create(owner=owner, name="Kim", portrait=finished_job_make(owner=owner).outputs.get(position=0))
    creation = memorial_animate(memorial=memorial, params=small_render_params)
    calm = get_engine("living-photo").portrait_params
    assert calm and creation.job.engine == "living-photo"
    assert {name: creation.job.params[name] for name in calm} == calm
    # What the caller says wins over the engine's calm defaults.
    memorial.living_creation = None
    creation = memorial_animate(memorial=memorial, params={**small_render_params, "motion": 200})
    assert creation.job.params["motion"] == 200


@pytest.mark.parametrize(("engine", "knob"), [("svd-xt", "motion"), ("cogvideox-i2v", "prompt")])
def test_the_gpu_video_engines_animate_a_portrait_gently(engine, knob):
    from generation.engines import get_engine

    engine = get_engine(engine)
    calm = engine.settings(engine.portrait_params)
    everyday = engine.settings({})
    assert getattr(calm, knob) != getattr(everyday, knob)
    if knob == "motion":
        assert calm.motion < everyday.motion / 2
    else:
        assert "camera does not move" in calm.prompt and "blink" in calm.prompt


def test_the_memorial_page_offers_the_video_engines_and_the_plan_decides(owner, settings, tmp_path):
    import html

    settings.GENERATION_MODELS_DIR = tmp_path
    memorial = memorial_create(owner=owner, name="Kim", portrait=finished_job_make(owner=owner).outputs.get(position=0))
    client = client_for(owner)
    page = html.unescape(client.get(memorial.get_absolute_url()).content.decode())
    assert 'value="living-photo" selected' in page
    assert 'value="svd-xt" disabled' in page and "for Premium" in page
    assert 'value="memorial-portrait"' not in page  # an image engine makes no living video
    # A free account that posts a GPU engine anyway is refused by the service, and pays nothing.
    response = client.post(reverse("memorials:animate", args=[memorial.pk]), {"engine": "svd-xt"}, follow=True)
    assert "Stable Video Diffusion XT comes with Premium." in html.unescape(response.content.decode())
    assert not Creation.objects.exists()
    # An engine that is no choice at all is refused by the form.
    response = client.post(reverse("memorials:animate", args=[memorial.pk]), {"engine": "memorial-portrait"}, follow=True)
    assert "Choose how to bring it to life." in response.content.decode()
    response = client.post(reverse("memorials:animate", args=[memorial.pk]), {"engine": "living-photo"})
    assert Creation.objects.get().job.engine == "living-photo"


def test_deleting_a_creation_says_first_what_it_takes_from_the_memorials(owner):
    job = finished_job_make(owner=owner, kinds=[IMAGE, IMAGE, VIDEO])
    creation = Creation.objects.create(owner=owner, title="Portraits", photo="photos/x.jpg", job=job)
    portrait, pastime, video = job.outputs.order_by("position")
    memorial_create(owner=owner, name="Kim Okja", portrait=portrait, video=video)
    memorial_create(owner=owner, name="Lee", pastimes=[pastime])
    client = client_for(owner)
    page = client.get(reverse("studio:creation-delete", args=[creation.pk])).content.decode()
    assert "It is the portrait of the memorial for Kim Okja" in page
    assert "It is the living video of the memorial for Kim Okja" in page
    assert "Its pictures are among the pastimes of the memorial for Lee" in page
    # In the owner's language.
    page = client.get(reverse("studio:creation-delete", args=[creation.pk]), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "The portrait" not in page and "It is the portrait" not in page
    # A creation no memorial uses says nothing of memorials.
    other = Creation.objects.create(owner=owner, title="Other", photo="photos/y.jpg", job=finished_job_make(owner=owner))
    assert "memorial for" not in client.get(reverse("studio:creation-delete", args=[other.pk])).content.decode()
