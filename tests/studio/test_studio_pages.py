"""What a creation's pages show a person: a live status that never reloads the page, and names
a person would give an untitled video."""
import pytest
from django.urls import reverse

from generation.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", ["queued", "running"])
def test_the_live_status_htmx_swaps_in_never_asks_the_browser_to_reload(owner_client, make_creation, user, state):
    creation = make_creation(user)
    Job.objects.filter(pk=creation.job_id).update(state=state, progress=50)
    partial = owner_client.get(reverse("studio:creation-status", args=[creation.id]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="job-status"' in partial
    assert "http-equiv" not in partial and "<noscript" not in partial


def test_without_javascript_an_unfinished_creation_page_still_refreshes_itself(owner_client, make_creation, user):
    creation = make_creation(user)
    page = owner_client.get(creation.get_absolute_url()).content.decode()
    head = page.split("</head>")[0]
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in head


@pytest.fixture
def untitled_from_march(make_creation, user):
    """An untitled creation made on 14 March of this year, at noon in the site's time zone."""
    from django.utils import timezone

    from studio.models import Creation

    creation = make_creation(user, title="")
    made = timezone.localtime().replace(month=3, day=14, hour=12)
    Creation.objects.filter(pk=creation.pk).update(created_at=made)
    creation.refresh_from_db()
    return creation


def test_an_untitled_creation_is_named_by_the_day_it_was_made_on_every_page(owner_client, untitled_from_march):
    from studio.services import creation_set_shared

    creation = untitled_from_march
    assert str(creation) == "Video of March 14"
    assert "<h1>Video of March 14</h1>" in owner_client.get(creation.get_absolute_url()).content.decode()
    assert "Video of March 14" in owner_client.get(reverse("studio:gallery")).content.decode()
    creation_set_shared(creation=creation, shared=True)
    public = owner_client.get(creation.get_share_url()).content.decode()
    assert '<meta property="og:title" content="Video of March 14">' in public
    assert str(creation.pk)[:8] not in public


def test_an_untitled_creation_says_its_day_in_the_visitors_language_and_its_year_once_past(untitled_from_march):
    from django.utils import timezone, translation

    from studio.models import Creation

    with translation.override("ko"):
        assert "3월 14일" in str(untitled_from_march)
    last_year = timezone.localtime().replace(year=timezone.localdate().year - 1, month=3, day=14, hour=12)
    Creation.objects.filter(pk=untitled_from_march.pk).update(created_at=last_year)
    untitled_from_march.refresh_from_db()
    with translation.override("en"):
        assert str(untitled_from_march) == f"Video of March 14, {last_year.year}"


def test_the_motion_slider_shows_its_value_from_the_server(owner_client):
    page = owner_client.get(reverse("studio:creation-new")).content.decode()
    assert '<output class="range-value" id="motion-value" for="id_motion">127</output>' in page
    again = owner_client.post(reverse("studio:creation-new"), {"motion": "200", "aspect_ratio": "1:1", "engine": "living-photo"}).content.decode()
    assert '<output class="range-value" id="motion-value" for="id_motion">200</output>' in again
