"""A case's pages: photos and logos are checked as the studio's uploads are, editing the name
and dates keeps what the memorial shows, and the family's PIN is rate-limited."""
import io

import pytest
from django.urls import reverse

from tests.factories import client_for

from ..conftest import image_bytes

pytestmark = pytest.mark.django_db


def upload(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def test_a_photo_that_is_not_one_is_refused_and_nothing_is_kept(case_a, staff_a):
    response = client_for(staff_a).post(reverse("partners:case-photo-upload", args=[case_a.pk]), {"photo": upload(b"%PDF-1.4 not a photo", "x.jpg")})
    assert response.status_code == 400 and case_a.photos.count() == 1


def test_a_photo_is_kept_as_a_jpeg_of_its_size(case_a, staff_a):
    client_for(staff_a).post(reverse("partners:case-photo-upload", args=[case_a.pk]), {"photo": upload(image_bytes("PNG", size=(400, 300)), "x.png")})
    photo = case_a.photos.last()
    assert (photo.width, photo.height) == (400, 300) and photo.file.name.endswith(".jpg")


def test_a_manager_sets_the_logo_families_see_and_staff_cannot(org_a, manager_a, staff_a):
    assert client_for(staff_a).post(reverse("partners:team"), {"photo": upload(image_bytes(), "logo.jpg")}).status_code == 404
    manager = client_for(manager_a)
    assert manager.post(reverse("partners:team"), {"photo": upload(b"<svg/>", "logo.svg")}).status_code == 400
    assert manager.post(reverse("partners:team"), {"photo": upload(image_bytes(), "logo.jpg")}).status_code == 302
    org_a.refresh_from_db()
    assert org_a.logo and client_for(staff_a).get(reverse("partners:logo"))["Content-Type"] == "image/jpeg"


def test_editing_the_case_keeps_the_memorials_portrait_and_video(case_a, staff_a):
    memorial = case_a.memorial
    portrait, video = memorial.portrait, memorial.video
    response = client_for(staff_a).post(reverse("partners:case-edit", args=[case_a.pk]), {
        "name": "Kim Ok-ja", "birth_year": "1942", "death_year": "2026", "death_month": "11", "death_day": "20", "notes": "Ceremony on Friday",
    })
    assert response.status_code == 302
    memorial.refresh_from_db()
    case_a.refresh_from_db()
    assert (memorial.name, memorial.life_span, case_a.notes) == ("Kim Ok-ja", "1942 – 20 November 2026", "Ceremony on Friday")
    assert (memorial.portrait, memorial.video) == (portrait, video)


def test_dates_are_checked_as_the_memorial_checks_them(staff_a):
    response = client_for(staff_a).post(reverse("partners:case-new"), {"name": "Kim", "birth_year": "1990", "death_year": "1950"})
    assert response.status_code == 400 and "before the date of birth" in response.content.decode()


def test_the_familys_pin_is_rate_limited(org_a, staff_a, settings):
    from .conftest import full_case_make

    settings.MEMORIAL_PIN_TRIES_PER_ADDRESS = 2
    case = full_case_make(org_a, staff_a, pin="2468")
    unlock = reverse("partners:delivery-unlock", args=[case.delivery.token])
    client = client_for(staff_a)
    assert [client.post(unlock, {"pin": "0000"}).status_code for _ in range(2)] == [403, 403]
    refused = client.post(unlock, {"pin": "2468"})
    assert refused.status_code == 429 and refused["Retry-After"] == "900"
