"""Nothing private is reachable without permission: strangers and anonymous visitors get 404."""
import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRIVATE_VIEWS = [
    ("studio:creation-detail", ()),
    ("studio:creation-status", ()),
    ("studio:creation-media", ("photo",)),
    ("studio:creation-media", ("video",)),
    ("studio:creation-media", ("gif",)),
    ("studio:creation-media", ("poster",)),
]


def private_urls(creation):
    return [reverse(name, args=[creation.id, *extra]) for name, extra in PRIVATE_VIEWS]


def test_the_owner_can_open_every_private_url(finished_creation, user):
    client = Client()
    client.force_login(user)
    for url in private_urls(finished_creation):
        assert client.get(url).status_code == 200, url


def test_another_user_gets_404_for_everything_private(finished_creation, other_user):
    client = Client()
    client.force_login(other_user)
    for url in private_urls(finished_creation):
        assert client.get(url).status_code == 404, url
    share = client.post(reverse("studio:creation-share", args=[finished_creation.id]), {"shared": "on"})
    assert share.status_code == 404
    finished_creation.refresh_from_db()
    assert not finished_creation.is_shared


def test_an_anonymous_visitor_gets_404_for_everything_private(finished_creation):
    client = Client()
    for url in private_urls(finished_creation):
        assert client.get(url).status_code == 404, url


def test_media_files_are_not_reachable_by_their_storage_path(finished_creation):
    client = Client()
    for name in (finished_creation.photo.name, finished_creation.job.video.file.name, finished_creation.job.animation.file.name):
        assert client.get(f"/media/{name}").status_code == 404
        assert client.get(f"/{name}").status_code == 404


def test_an_unknown_share_token_is_404(client):
    assert client.get(reverse("studio:share", args=["not-a-real-token"])).status_code == 404


def test_staff_who_may_view_creations_can_open_them(finished_creation, django_user_model):
    admin = django_user_model.objects.create_superuser(email="staff@example.com", password="x-long-pass-phrase")
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("studio:creation-media", args=[finished_creation.id, "poster"])).status_code == 200
    # A staff member without the permission is a stranger like any other.
    clerk = django_user_model.objects.create_user(email="clerk@example.com", password="x-long-pass-phrase", is_staff=True)
    client.force_login(clerk)
    assert client.get(finished_creation.get_absolute_url()).status_code == 404
