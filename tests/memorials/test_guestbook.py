"""Visitors who may see a memorial leave messages; no links; limited per address and per page;
shown once the owner approves them."""
import pytest
from django.test import Client
from django.urls import reverse

from memorials.models import GuestbookMessage
from memorials.rules import contains_link
from memorials.services import memorial_create, memorial_sharing_set
from tests.factories import client_for, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return user_make("family@example.com")


@pytest.fixture
def memorial(owner):
    return memorial_sharing_set(memorial=memorial_create(owner=owner, name="Kim Okja"), shared=True)


def leave(memorial, client=None, **form):
    client = client or Client()
    return client.post(reverse("memorials:public-guestbook", args=[memorial.share_token]), {"name": "Minsu", "message": "We miss you.", **form})


@pytest.mark.parametrize("text", [
    "see http://example.com", "hxxp : // evil", "www example", "example.com", "EXAMPLE.COM!", "mail me@example.co.kr",
    "example . com", "example dot com", "example(dot)com", "example [.] net", "ｅｘａｍｐｌｅ．ｃｏｍ", "네이버.한국", "example。com",
    "bit.ly/abc", "kakao 점 com",
])
def test_links_and_domains_are_refused_even_disguised(text):
    assert contains_link(text)


@pytest.mark.parametrize("text", [
    "Thank you. Me and mum will always remember.", "She loved 3.5 km walks.", "할머니, 보고 싶어요.감사했어요.", "e.g. her garden",
    "Rest in peace. Co-workers miss you", "It was 10.30 when we met.",
])
def test_ordinary_sentences_are_not_links(text):
    assert not contains_link(text)


def test_a_message_waits_for_the_owners_approval(owner, memorial):
    assert leave(memorial).status_code == 302
    entry = GuestbookMessage.objects.get()
    assert entry.state == GuestbookMessage.State.PENDING
    assert "We miss you." not in Client().get(memorial.get_share_url()).content.decode()
    assert "We miss you." in client_for(owner).get(memorial.get_absolute_url()).content.decode()  # to moderate
    client_for(owner).post(reverse("memorials:message-moderate", args=[entry.pk, "approve"]))
    assert "We miss you." in Client().get(memorial.get_share_url()).content.decode()
    client_for(owner).post(reverse("memorials:message-moderate", args=[entry.pk, "hide"]))
    assert "We miss you." not in Client().get(memorial.get_share_url()).content.decode()
    client_for(owner).post(reverse("memorials:message-moderate", args=[entry.pk, "delete"]))
    assert not GuestbookMessage.objects.exists()


def test_only_the_owner_moderates(owner, memorial):
    leave(memorial)
    entry = GuestbookMessage.objects.get()
    stranger = client_for(user_make("stranger@example.com"))
    assert stranger.post(reverse("memorials:message-moderate", args=[entry.pk, "approve"])).status_code == 404
    assert stranger.post(reverse("memorials:message-moderate", args=[entry.pk, "delete"])).status_code == 404
    assert GuestbookMessage.objects.get().state == GuestbookMessage.State.PENDING


def test_a_message_with_a_link_is_refused_with_the_rule(memorial):
    response = leave(memorial, message="Photos at example . com")
    assert response.status_code == 400 and "the guestbook takes no links" in response.content.decode()
    assert leave(memorial, name="www.spam.com").status_code == 400
    assert not GuestbookMessage.objects.exists()


def test_a_message_is_at_most_1000_characters(memorial):
    assert leave(memorial, message="가" * 1001).status_code == 400
    assert leave(memorial, message="가" * 1000).status_code == 302


def test_a_bot_filling_the_hidden_field_is_thanked_and_ignored(memorial):
    assert leave(memorial, website="spam").status_code == 302
    assert not GuestbookMessage.objects.exists()


def test_messages_are_limited_per_address_and_per_page(memorial, owner, settings):
    settings.MEMORIAL_MESSAGES_PER_ADDRESS_PER_HOUR, settings.MEMORIAL_MESSAGES_PER_PAGE_PER_HOUR = 2, 3
    one = Client(REMOTE_ADDR="203.0.113.9")
    assert [leave(memorial, one).status_code for _ in range(3)] == [302, 302, 429]
    assert [leave(memorial, Client(REMOTE_ADDR=f"198.51.100.{n}")).status_code for n in range(2)] == [302, 429]
    assert GuestbookMessage.objects.count() == 3


def test_no_message_without_access_to_the_page(owner, memorial):
    memorial_sharing_set(memorial=memorial, shared=True, pin="4321")
    assert leave(memorial).status_code == 404
    memorial_sharing_set(memorial=memorial, shared=False)
    assert leave(memorial).status_code == 404
    assert not GuestbookMessage.objects.exists()


def test_the_guestbook_form_is_protected_by_csrf(memorial):
    client = Client(enforce_csrf_checks=True)
    assert leave(memorial, client).status_code == 403
