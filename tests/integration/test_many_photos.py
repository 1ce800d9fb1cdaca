"""A job that takes several photos and makes several images, through a real worker process,
with an engine the test registers (tests/engines.py): three photos in, four images out, each
output stored with its size, checksum and dimensions, and served to its owner only."""
import hashlib
import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from generation.models import Job
from studio.models import Creation
from tests.conftest import image_bytes, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


@pytest.fixture(autouse=True)
def collage_engine(settings):
    """Registered here and, through the environment, in the worker process the test starts."""
    settings.GENERATION_EXTRA_ENGINES = ["tests.engines.CollageEngine"]


def photo(color, name):
    upload = io.BytesIO(image_bytes(size=(900, 600), color=color))
    upload.name = name
    return upload


def near(pixel, color, tolerance=40):
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, color, strict=True))


def test_three_photos_in_make_four_images_out_served_to_their_owner_only(celery_worker_process, client, user, other_user):
    client.force_login(user)
    response = client.post(reverse("studio:creation-new"), {
        "photo": [photo(RED, "red.jpg"), photo(GREEN, "green.jpg"), photo(BLUE, "blue.jpg")],
        "engine": "test-collage", "aspect_ratio": "1:1", "height": 480, "title": "Three of us",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    creation = Creation.objects.get()
    wait_for(lambda: Job.objects.get(pk=creation.job_id).is_finished, timeout=120, what="the worker to finish the job")
    job = Job.objects.get(pk=creation.job_id)
    assert job.state == Job.State.SUCCEEDED, job.error_detail
    assert job.worker and job.attempts == 1

    # The photos went in in the order chosen; the first is the creation's own.
    inputs = list(job.inputs.all())
    assert [i.position for i in inputs] == [0, 1, 2] and inputs[0].file.name == creation.photo.name
    for stored, color in zip(inputs, (RED, GREEN, BLUE), strict=True):
        with stored.file.open("rb") as handle, Image.open(handle) as image:
            assert near(image.convert("RGB").getpixel((450, 300)), color)

    # Four images came out, in order, each described truly by its row.
    outputs = list(job.outputs.all())
    assert [(o.position, o.kind, o.width, o.height) for o in outputs] == [(n, "image", 480, 480) for n in range(4)]
    pages = {}
    for output in outputs:
        response = client.get(reverse("studio:creation-output", args=[creation.pk, output.position]) + "?download=1")
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert len(body) == output.bytes and hashlib.sha256(body).hexdigest() == output.sha256
        assert response["Content-Disposition"] == f'attachment; filename="three-of-us-{output.position + 1}.png"'
        image = Image.open(io.BytesIO(body))
        assert (image.format, image.size) == ("PNG", (480, 480))
        pages[output.position] = image.convert("RGB")
    for position, color in enumerate((RED, GREEN, BLUE)):
        assert near(pages[position].getpixel((240, 240)), color)
        assert near(pages[3].getpixel((80 + 160 * position, 240)), color)  # the collage, in the same order

    # The creation page shows the four images and offers each as a download.
    detail = client.get(creation.get_absolute_url()).content.decode()
    for output in outputs:
        assert reverse("studio:creation-output", args=[creation.pk, output.position]) in detail
    assert "<video" not in detail

    # Nobody else gets them: not another customer, not a visitor, not through a share link that is off.
    other = Client()
    other.force_login(other_user)
    for visitor in (other, Client()):
        for output in outputs:
            assert visitor.get(reverse("studio:creation-output", args=[creation.pk, output.position])).status_code == 404
    assert client.get(reverse("studio:creation-output", args=[creation.pk, 4])).status_code == 404

    # Shared, the public page shows the images, and its link (only) serves them to anyone.
    from studio.services import creation_set_shared

    creation_set_shared(creation=creation, shared=True)
    page = Client().get(reverse("studio:share", args=[creation.share_token])).content.decode()
    first = reverse("studio:share-output", args=[creation.share_token, 0])
    assert f'<meta property="og:image" content="http://testserver{first}">' in page and 'content="website"' in page
    assert all(reverse("studio:share-output", args=[creation.share_token, o.position]) in page for o in outputs)
    assert Client().get(first).status_code == 200
    creation_set_shared(creation=creation, shared=False)
    assert Client().get(first).status_code == 404
