"""Public pages that unfurl, count their visitors, can be moved or reported, and are taken down
by staff; and the email that says a video is ready."""
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio.models import Creation, ShareReport
from studio.services import share_views_flush
from tests.conftest import run_job

pytestmark = pytest.mark.django_db


def share(owner_client, creation) -> str:
    owner_client.post(reverse("studio:creation-share", args=[creation.pk]), {"shared": "on"})
    creation.refresh_from_db()
    return creation.get_share_url()


def meta(page: str, name: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', page)
    assert match, f"no {name} meta tag"
    return match.group(1)


def test_a_shared_page_unfurls_with_title_poster_and_video(owner_client, finished_creation):
    url = share(owner_client, finished_creation)
    page = Client().get(url).content.decode()
    assert meta(page, "og:title") == "Chelsea"
    assert meta(page, "og:url") == f"http://testserver{url}"
    assert meta(page, "og:image") == f"http://testserver{url}poster/" and meta(page, "og:image:width") == "240"
    assert meta(page, "og:video") == f"http://testserver{url}video/" and meta(page, "og:video:type") == "video/mp4"
    assert meta(page, "twitter:card") == "summary_large_image" and meta(page, "twitter:image").endswith("/poster/")
    # What the tags point at is really there for a stranger.
    assert Client().get(meta(page, "og:video").removeprefix("http://testserver"))["Content-Type"] == "video/mp4"
    assert Client().get(meta(page, "og:image").removeprefix("http://testserver"))["Content-Type"] == "image/jpeg"


def test_make_your_own_carries_where_the_visitor_came_from_into_sign_up(owner_client, finished_creation):
    url = share(owner_client, finished_creation)
    visitor = Client()
    page = visitor.get(url).content.decode()
    assert "sessionid" not in visitor.cookies  # looking starts no session
    link = re.search(r'<a class="button" href="([^"]+)">Make your own</a>', page).group(1)
    response = visitor.get(link)
    assert response.url == f'{reverse("account_signup")}?from=share'
    assert visitor.session["referral"] == {"source": "share", "creation": str(finished_creation.pk)}


def test_make_your_own_from_a_link_since_switched_off_is_plain_sign_up(owner_client, finished_creation):
    url = share(owner_client, finished_creation)
    owner_client.post(reverse("studio:creation-share", args=[finished_creation.pk]), {})
    visitor = Client()
    assert visitor.get(f"{url}make-your-own/").url == f'{reverse("account_signup")}?from=share'
    assert "referral" not in visitor.session


def test_visits_by_others_are_counted_and_the_owner_sees_the_count(owner_client, finished_creation):
    url = share(owner_client, finished_creation)
    for _ in range(3):
        Client().get(url)
    owner_client.get(url)  # the owner's own look does not count
    assert share_views_flush() == 3
    assert Creation.objects.get(pk=finished_creation.pk).share_views == 3
    assert "Watched 3 times by others." in owner_client.get(finished_creation.get_absolute_url()).content.decode()


def test_a_new_address_retires_the_old_link_at_once(owner_client, finished_creation):
    old = share(owner_client, finished_creation)
    owner_client.post(reverse("studio:creation-share-rotate", args=[finished_creation.pk]))
    finished_creation.refresh_from_db()
    new = finished_creation.get_share_url()
    assert new != old
    assert Client().get(old).status_code == 404 and Client().get(f"{old}video/").status_code == 404
    assert Client().get(new).status_code == 200


def test_only_the_owner_can_move_the_link(finished_creation, other_user, owner_client):
    share(owner_client, finished_creation)
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.post(reverse("studio:creation-share-rotate", args=[finished_creation.pk])).status_code == 404


def test_a_report_lands_in_the_staff_queue_once_per_person(owner_client, finished_creation):
    url = share(owner_client, finished_creation)
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(url).content.decode()
    form_url = re.search(r'<a class="muted" href="([^"]+)" rel="nofollow">Report this page</a>', page).group(1)
    for _ in range(2):
        form = visitor.get(form_url).content.decode()  # the form brings its own CSRF token
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        response = visitor.post(form_url, {"reason": "offensive", "details": "Not nice", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
    assert "Thank you. Our staff will look at this page." in visitor.get(response.url).content.decode()
    assert ShareReport.objects.get().reason == "offensive"
    assert visitor.post(form_url, {"reason": "made-up", "csrfmiddlewaretoken": token}).status_code == 400
    assert ShareReport.objects.count() == 1


def test_staff_take_a_page_down_and_the_owner_is_told(owner_client, finished_creation, admin_client, django_capture_on_commit_callbacks):
    url = share(owner_client, finished_creation)
    assert Client().get(url).status_code == 200  # the page is now kept rendered
    Client().post(reverse("studio:share-report", args=[finished_creation.share_token]), {"reason": "privacy"})
    report = ShareReport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:studio_sharereport_changelist"), {"action": "take_down", "_selected_action": [report.pk]})
    assert Client().get(url).status_code == 404 and Client().get(f"{url}video/").status_code == 404
    assert ShareReport.objects.get().outcome == "taken_down"
    assert mail.outbox[-1].to == [finished_creation.owner.email] and "taken down" in mail.outbox[-1].subject
    # The owner cannot simply switch it back on.
    response = owner_client.post(reverse("studio:creation-share", args=[finished_creation.pk]), {"shared": "on"}, follow=True)
    assert "cannot be shared again" in response.content.decode()
    assert Client().get(url).status_code == 404


def test_the_owner_is_emailed_when_the_video_is_ready_after_commit(make_creation, user, django_capture_on_commit_callbacks):
    creation = make_creation(user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_job(creation.job_id)
    assert not mail.outbox  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert [message.subject for message in mail.outbox] == ['Your PetMemories video "Chelsea" is ready']
    assert creation.get_absolute_url() in mail.outbox[0].body


def test_text_emails_keep_a_title_s_quotes_and_ampersands_as_typed(make_creation, user, django_capture_on_commit_callbacks):
    creation = make_creation(user, title="Nabi's & Coco")
    with django_capture_on_commit_callbacks(execute=True):
        run_job(creation.job_id)
    [message] = mail.outbox
    assert message.subject == 'Your PetMemories video "Nabi\'s & Coco" is ready'
    assert 'Your video "Nabi\'s & Coco" is ready.' in message.body and "&amp;" not in message.body


def test_a_title_stored_on_two_lines_still_gets_its_ready_email_on_one_line(make_creation, user, django_capture_on_commit_callbacks):
    creation = make_creation(user)
    Creation.objects.filter(pk=creation.pk).update(title="Nabi\nCoco")  # saved before titles were checked
    with django_capture_on_commit_callbacks(execute=True):
        run_job(creation.job_id)
    assert [message.subject for message in mail.outbox] == ['Your PetMemories video "Nabi Coco" is ready']
