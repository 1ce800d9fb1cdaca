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
