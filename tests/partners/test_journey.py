"""Done when: a partner's staff member opens a case, uploads a photo, gets a memorial portrait
(on the CPU) and a living video of it, and delivers them to the family by a private link."""
import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.models import JobOutput
from partners.models import Case, CaseProduct
from shop.models import CreditEntry
from tests.conftest import PERSON_PHOTO, run_job
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def test_a_staff_member_makes_a_portrait_and_a_living_video_and_delivers_them(staff_a, org_a, settings, django_capture_on_commit_callbacks, mailoutbox):
    staff = client_for(staff_a)
    response = staff.post(reverse("partners:case-new"), {"name": "Kim Okja", "birth_year": "1942", "birth_month": "3", "death_year": "2026"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert case.organisation == org_a and case.memorial.owner == org_a.account and case.memorial.life_span == "March 1942 – 2026"

    with PERSON_PHOTO.open("rb") as photo:
        assert staff.post(reverse("partners:case-photo-upload", args=[case.pk]), {"photo": photo}).status_code == 302
    photo = case.photos.get()
    assert staff.get(reverse("partners:case-photo", args=[case.pk, photo.pk]))["Content-Type"] == "image/jpeg"

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("partners:case-product-make", args=[case.pk]), {"photo": photo.pk, "engine": "memorial-portrait"})
    portrait_product = case.products.get()
    assert portrait_product.creation.job.engine == "memorial-portrait"
    with django_capture_on_commit_callbacks(execute=True):
        job = run_job(portrait_product.creation.job_id)
    assert job.state == "succeeded", job.error_detail
    candidate = job.outputs.filter(kind=JobOutput.Kind.IMAGE).last()
    staff.post(reverse("partners:case-portrait", args=[case.pk]), {"output": candidate.pk})
    case.memorial.refresh_from_db()
    assert case.memorial.portrait == candidate

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("partners:case-animate", args=[case.pk]))
    video_product = case.products.get(kind=CaseProduct.Kind.VIDEO)
    with django_capture_on_commit_callbacks(execute=True):
        job = run_job(video_product.creation.job_id)
    assert job.state == "succeeded", job.error_detail
    case.memorial.refresh_from_db()
    assert case.memorial.video == job.outputs.get(kind=JobOutput.Kind.VIDEO)  # the memorial's own "bring it to life"
    assert not CreditEntry.objects.filter(user=org_a.account).exists()  # invoiced, not paid in credits
    assert mailoutbox == []  # nobody reads the organisation's account

    expires = (timezone.localtime() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    staff.post(reverse("partners:case-delivery", args=[case.pk]), {"expires_at": expires, "pin": "2468"})
    case.refresh_from_db()
    family = Client()
    link = case.delivery.get_absolute_url()
    assert "PIN" in family.get(link).content.decode()
    family.post(reverse("partners:delivery-unlock", args=[case.delivery.token]), {"pin": "2468"})
    page = family.get(link).content.decode()
    assert "Haneul Funeral Services" in page and "Kim Okja" in page
    portrait_png = family.get(reverse("partners:delivery-file", args=[case.delivery.token, candidate.pk]) + "?download")
    assert portrait_png["Content-Type"] == "image/png" and portrait_png["Content-Disposition"].startswith('attachment; filename="kim-okja-')
    video = family.get(reverse("partners:delivery-file", args=[case.delivery.token, case.memorial.video.pk]) + "?download")
    assert video["Content-Type"] == "video/mp4" and b"".join(video.streaming_content)[4:8] == b"ftyp"
    # the memorial page opens with the PIN already given
    memorial_page = family.get(case.memorial.get_share_url())
    assert memorial_page.status_code == 200 and "Kim Okja" in memorial_page.content.decode() and 'name="pin"' not in memorial_page.content.decode()
