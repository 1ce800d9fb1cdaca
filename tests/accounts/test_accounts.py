"""Sign-up, log-in, verification, password reset and change of email, through allauth."""
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "purring-tabby-2026"


def sign_up(client, email="new@example.com"):
    return client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def link_in(message) -> str:
    return re.search(r"https?://[^\s]+", message.body).group(0)


def test_a_new_user_is_let_in_at_once_and_sent_a_verification_mail(client, django_user_model):
    response = sign_up(client)
    assert response.status_code == 302
    user = django_user_model.objects.get(email="new@example.com")
    assert client.get(reverse("studio:gallery")).status_code == 200  # logged in already
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    assert not EmailAddress.objects.get(user=user).verified

    client.get(link_in(mail.outbox[0]))  # the confirmation page
    client.post(link_in(mail.outbox[0]))
    assert EmailAddress.objects.get(user=user).verified


def test_mandatory_verification_keeps_an_unverified_user_out(client, settings, django_user_model):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    sign_up(client)
    response = client.get(reverse("studio:gallery"))
    assert response.status_code == 302 and reverse("account_login") in response.url
    assert "confirm" in mail.outbox[0].subject.lower()


def test_the_same_email_cannot_sign_up_twice(client, user):
    response = sign_up(client, email=user.email.upper())
    assert response.status_code == 200
    assert "already registered" in response.content.decode()


def test_log_in_with_email_and_log_out(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "a-long-pass-phrase"})
    assert response.status_code == 302 and response.url == reverse("studio:gallery")
    client.post(reverse("account_logout"))
    assert client.get(reverse("studio:gallery")).status_code == 302


def test_password_reset_by_email(client, user):
    client.post(reverse("account_reset_password"), {"email": user.email})
    assert len(mail.outbox) == 1
    reset_page = client.get(link_in(mail.outbox[0]), follow=True)
    form_url = reset_page.redirect_chain[-1][0] if reset_page.redirect_chain else link_in(mail.outbox[0])
    client.post(form_url, {"password1": "a-new-pass-phrase-1", "password2": "a-new-pass-phrase-1"})
    user.refresh_from_db()
    assert user.check_password("a-new-pass-phrase-1")


def test_change_email(owner_client, user):
    owner_client.post(reverse("account_email"), {"action_add": "", "email": "moved@example.com"})
    assert mail.outbox and mail.outbox[-1].to == ["moved@example.com"]
    owner_client.post(link_in(mail.outbox[-1]))
    user.refresh_from_db()
    assert user.email == "moved@example.com"


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password"])
def test_account_pages_use_the_site_layout(client, name):
    page = client.get(reverse(name)).content.decode()
    assert "site-header" in page and "css/site.css" in page
