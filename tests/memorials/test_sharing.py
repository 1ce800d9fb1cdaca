"""A memorial is private until shared by link; the link can be turned off, moved, given an
expiry and a PIN; it unfurls in messengers without giving away a PIN-protected page; and its
files are served only to those who may see it."""
import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.models import JobOutput
from memorials.models import Memorial
from memorials.services import memorial_create, memorial_sharing_set
from tests.factories import client_for, finished_job_make, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return user_make("family@example.com")


@pytest.fixture
def memorial(owner) -> Memorial:
    portraits = finished_job_make(owner=owner)
    video_job = finished_job_make(owner=owner, engine="living-photo", kinds=[JobOutput.Kind.VIDEO, JobOutput.Kind.POSTER])
    return memorial_create(
        owner=owner, name="Kim Okja", birth_year=1942, birth_month=3, birth_day=5, death_year=2026, death_month=11, death_day=20,
        epitaph="Loved by all", portrait=portraits.outputs.get(position=0), pastimes=[portraits.outputs.get(position=1)],
        video=video_job.outputs.get(kind=JobOutput.Kind.VIDEO),
    )


def share(owner, memorial, **form) -> str:
    client_for(owner).post(reverse("memorials:sharing", args=[memorial.pk]), {"shared": "on", **form})
    memorial.refresh_from_db()
    return memorial.get_share_url()


def media_urls(memorial) -> list[str]:
    token = memorial.share_token
    return [reverse("memorials:public-media", args=[token, part]) for part in ("portrait", "video", "poster")] + [
        reverse("memorials:public-pastime", args=[token, 0])
    ]


def meta(page: str, name: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', page)
    return match.group(1) if match else None


def test_a_memorial_is_private_until_shared(owner, memorial):
    assert memorial.share_token is None
    page = client_for(owner).get(memorial.get_absolute_url()).content.decode()
    assert "Only you can see this memorial." in page and "Kim Okja" in page
    assert Client().get(memorial.get_absolute_url()).status_code == 302  # to the log-in page
    assert Client().get(reverse("memorials:media", args=[memorial.pk, "portrait"])).status_code == 302


def test_the_shared_page_shows_the_memorial_and_its_files_to_anyone_with_the_link(owner, memorial):
    url = share(owner, memorial)
    page = Client().get(url).content.decode()
    assert "Kim Okja" in page and "5 March 1942 – 20 November 2026" in page and "Loved by all" in page
    assert re.search(r"<video[^>]+autoplay loop muted playsinline", page)
    for media in media_urls(memorial):
        assert media in page or media.endswith("/poster/")
        assert Client().get(media).status_code == 200, media


def test_the_page_speaks_korean_to_a_korean_visitor(owner, memorial):
    url = share(owner, memorial)
    page = Client(headers={"accept-language": "ko"}).get(url).content.decode()
    assert "고(故) Kim Okja 님" in page and "1942년 3월 5일 – 2026년 11월 20일" in page


def test_turned_off_the_link_and_its_files_answer_404_and_on_again_the_same_link_works(owner, memorial):
    url = share(owner, memorial)
    files = media_urls(memorial)
    client_for(owner).post(reverse("memorials:sharing", args=[memorial.pk]), {})
    assert Client().get(url).status_code == 404
    assert all(Client().get(media).status_code == 404 for media in files)
    assert share(owner, memorial) == url and Client().get(url).status_code == 200


def test_a_new_address_retires_the_old_link_and_its_files_at_once(owner, memorial):
    old = share(owner, memorial)
    old_files = media_urls(memorial)
    client_for(owner).post(reverse("memorials:share-rotate", args=[memorial.pk]))
    memorial.refresh_from_db()
    assert memorial.get_share_url() != old
    assert Client().get(old).status_code == 404 and Client().get(old_files[0]).status_code == 404
    assert Client().get(memorial.get_share_url()).status_code == 200


def test_after_its_expiry_the_link_says_the_page_is_no_longer_shared(owner, memorial):
    url = share(owner, memorial, expires_at="2030-01-01T09:00")
    assert Client().get(url).status_code == 200
    Memorial.objects.filter(pk=memorial.pk).update(share_expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = Client().get(url)
    page = response.content.decode()
    assert response.status_code == 410 and "This page is no longer shared" in page
    assert "Kim Okja" not in page and meta(page, "og:image") is None
    assert all(Client().get(media).status_code == 404 for media in media_urls(memorial))


def test_a_pin_keeps_the_page_and_its_files_closed_until_entered(owner, memorial):
    url = share(owner, memorial, pin="4321")
    memorial.refresh_from_db()
    assert memorial.pin_hash.startswith(("pbkdf2", "md5", "argon2", "bcrypt", "scrypt")) and "4321" not in memorial.pin_hash
    visitor = Client()
    page = visitor.get(url).content.decode()
    assert "Kim Okja" not in page and "Loved by all" not in page and "PIN" in page
    assert all(visitor.get(media).status_code == 404 for media in media_urls(memorial))
    unlock = reverse("memorials:public-unlock", args=[memorial.share_token])
    assert visitor.post(unlock, {"pin": "1234"}).status_code == 403
    assert visitor.post(unlock, {"pin": "4321"}).url == url
    assert "Kim Okja" in visitor.get(url).content.decode()
    assert all(visitor.get(media).status_code == 200 for media in media_urls(memorial))
    # Another visitor (another session) still needs it.
    assert "Kim Okja" not in Client().get(url).content.decode()


def test_the_unlock_opens_that_page_only_and_a_new_pin_closes_it_again(owner, memorial):
    other = memorial_create(owner=owner, name="Lee Sunja")
    url = share(owner, memorial, pin="4321")
    other_url = share(owner, other, pin="4321")
    visitor = Client()
    visitor.post(reverse("memorials:public-unlock", args=[memorial.share_token]), {"pin": "4321"})
    assert "Lee Sunja" not in visitor.get(other_url).content.decode()
    memorial_sharing_set(memorial=Memorial.objects.get(pk=memorial.pk), shared=True, pin="98765")
    assert "Kim Okja" not in visitor.get(url).content.decode()


def test_wrong_pins_are_limited_per_link_and_address(owner, memorial, settings):
    settings.MEMORIAL_PIN_TRIES_PER_ADDRESS = 3
    share(owner, memorial, pin="4321")
    unlock = reverse("memorials:public-unlock", args=[memorial.share_token])
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    assert [guesser.post(unlock, {"pin": f"000{n}"}).status_code for n in range(3)] == [403, 403, 403]
    refused = guesser.post(unlock, {"pin": "4321"})  # even the right one, until the window ends
    assert refused.status_code == 429 and refused["Retry-After"] == "900"
    assert "Kim Okja" not in guesser.get(memorial.get_share_url()).content.decode()
    # Another address is not held back by the guesser's tries.
    assert Client(REMOTE_ADDR="198.51.100.7").post(unlock, {"pin": "4321"}).status_code == 302


def test_an_expiry_in_the_past_is_refused(owner, memorial):
    assert share(owner, memorial, expires_at="2001-01-01T09:00") is None
    assert not Memorial.objects.get(pk=memorial.pk).is_shared


def test_a_signed_in_stranger_cannot_fetch_the_owners_files(owner, memorial):
    stranger = client_for(user_make("stranger@example.com"))
    for part in ("portrait", "video", "poster"):
        assert stranger.get(reverse("memorials:media", args=[memorial.pk, part])).status_code == 404
    assert stranger.get(reverse("memorials:pastime", args=[memorial.pk, 0])).status_code == 404
    assert stranger.get(reverse("memorials:output", args=[memorial.portrait.pk])).status_code == 404
    assert client_for(owner).get(reverse("memorials:media", args=[memorial.pk, "poster"]))["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤"])
def test_a_pin_is_four_to_eight_digits(owner, memorial, pin):
    share(owner, memorial, pin=pin)
    memorial.refresh_from_db()
    assert not memorial.has_pin


def test_the_unfurl_shows_name_and_portrait_without_a_pin(owner, memorial):
    url = share(owner, memorial)
    page = Client().get(url).content.decode()
    assert meta(page, "og:title") == "Kim Okja"
    assert meta(page, "og:url") == f"http://testserver{url}"
    assert meta(page, "og:image") == f"http://testserver{url}portrait/" and meta(page, "twitter:card") == "summary_large_image"
    assert Client().get(meta(page, "og:image").removeprefix("http://testserver"))["Content-Type"] == "image/jpeg"


def test_the_unfurl_of_a_pin_page_gives_nothing_private_away(owner, memorial):
    url = share(owner, memorial, pin="4321")
    page = Client().get(url).content.decode()
    assert meta(page, "og:title") == "A memorial page"
    assert meta(page, "og:image") is None and meta(page, "twitter:image") is None
    assert "Kim Okja" not in page and "Loved by all" not in page and "1942" not in page
