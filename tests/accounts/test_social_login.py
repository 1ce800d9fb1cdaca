"""Signing in with Kakao, Naver, Google and Apple, end to end against tests/oauth_fake.

The test plays the browser: it presses a provider's button on our login page, follows our
redirect to the provider's real authorize URL (reached through the fake, see its docstring),
consents there as a given person and comes back to our callback, where allauth exchanges the
code and reads the person's profile over HTTPS from the fake.
"""
import html
import re

import environ
import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.core import mail
from django.urls import reverse

from petmemories.settings.base import social_providers_from_env
from tests.oauth_fake import OAuthFake, Person

pytestmark = pytest.mark.django_db
PROVIDERS = ["kakao", "naver", "google", "apple"]
# Naver vouches for every email it hands out: allauth takes them all as verified.
PROVIDERS_THAT_SAY_UNVERIFIED = ["kakao", "google", "apple"]
REAL_AUTHORIZE_URLS = {
    "kakao": "https://kauth.kakao.com/oauth/authorize?",
    "naver": "https://nid.naver.com/oauth2.0/authorize?",
    "google": "https://accounts.google.com/o/oauth2/v2/auth?",
    "apple": "https://appleid.apple.com/auth/authorize?",
}
PASSWORD = "a-long-pass-phrase"


@pytest.fixture(scope="session")
def oauth_fake(tmp_path_factory):
    fake = OAuthFake(folder=tmp_path_factory.mktemp("oauth-fake"))
    fake.start()
    yield fake
    fake.stop()


def provider_keys(fake: OAuthFake) -> dict[str, str]:
    return {
        "SOCIAL_KAKAO_CLIENT_ID": "kakao-rest-api-key", "SOCIAL_KAKAO_SECRET": "kakao-secret",
        "SOCIAL_NAVER_CLIENT_ID": "naver-client-id", "SOCIAL_NAVER_SECRET": "naver-secret",
        "SOCIAL_GOOGLE_CLIENT_ID": "123-abc.apps.googleusercontent.com", "SOCIAL_GOOGLE_SECRET": "google-secret",
        "SOCIAL_APPLE_CLIENT_ID": "com.petmemories.web", "SOCIAL_APPLE_TEAM_ID": "TEAM123456",
        "SOCIAL_APPLE_KEY_ID": "KEY1234567", "SOCIAL_APPLE_PRIVATE_KEY": fake.apple_private_key_pem,
    }


@pytest.fixture
def switch_on(oauth_fake, monkeypatch, settings):
    """Set the providers' keys in the environment, as an operator would, and read the settings
    from it; the network to the providers leads to the fake."""
    monkeypatch.setenv("HTTPS_PROXY", oauth_fake.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(oauth_fake.ca_bundle))
    for name in ("https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    def switch_on(*, providers=PROVIDERS):
        for name, value in provider_keys(oauth_fake).items():
            if name.split("_")[1].lower() in providers:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)
        settings.SOCIALACCOUNT_PROVIDERS = social_providers_from_env(environ.Env())

    switch_on()
    return switch_on


def sign_in_with(client, fake: OAuthFake, provider: str, person: Person, *, process: str = "login"):
    """Press the provider's button, sign in and consent there as `person`, come back to us."""
    fake.consents(provider=provider, person=person)
    to_provider = client.post(reverse(f"{provider}_login"), {"process": process})
    assert to_provider.status_code == 302 and to_provider.url.startswith(REAL_AUTHORIZE_URLS[provider])
    consent = requests.get(to_provider.url, allow_redirects=False, timeout=10)
    if provider == "apple":  # response_mode=form_post: the browser posts the code back to us
        action = re.search(r'action="([^"]+)"', consent.text).group(1)
        fields = {name: html.unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', consent.text)}
        return client.post(action, fields, follow=True)
    assert consent.status_code == 302
    return client.get(consent.headers["Location"], follow=True)


def assert_told_to_sign_in_first(client, page, email: str):
    """allauth asks for the email of a new account on its sign-up form; the taken one is refused there
    with the way out: sign in to that account, then connect the provider."""
    assert page.redirect_chain[-1][0] == reverse("socialaccount_signup")
    refused = client.post(reverse("socialaccount_signup"), {"email": email})
    assert refused.status_code == 200
    assert "Please sign in to that account first, then connect" in refused.content.decode()


def signed_in_user(client):
    return client.get(reverse("studio:gallery")).wsgi_request.user


def account(django_user_model, email: str, *, verified: bool):
    user = django_user_model.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_newcomer_signs_up_with_a_provider(client, oauth_fake, switch_on, provider, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"  # as in production
    sign_in_with(client, oauth_fake, provider, Person(uid="4100001", email=f"new-{provider}@example.com"))

    user = signed_in_user(client)
    assert user.is_authenticated and user.email == f"new-{provider}@example.com"
    assert SocialAccount.objects.get(user=user, provider=provider).uid == "4100001"
    assert EmailAddress.objects.get(user=user).verified  # the provider vouched for it
    assert mail.outbox == []


@pytest.mark.parametrize("provider", PROVIDERS_THAT_SAY_UNVERIFIED)
def test_a_newcomer_whose_email_the_provider_did_not_verify_verifies_it_with_us(client, oauth_fake, switch_on, provider, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"

    sign_in_with(client, oauth_fake, provider, Person(uid="4100006", email="unsure@example.com", email_verified=False))

    assert not signed_in_user(client).is_authenticated
    assert not EmailAddress.objects.get(email="unsure@example.com").verified
    assert mail.outbox[-1].to == ["unsure@example.com"]


def test_a_kakao_user_who_withholds_their_email_is_asked_for_one(client, oauth_fake, switch_on):
    page = sign_in_with(client, oauth_fake, "kakao", Person(uid="4100007", email=None))
    assert page.redirect_chain[-1][0] == reverse("socialaccount_signup")

    client.post(reverse("socialaccount_signup"), {"email": "typed@example.com"})

    assert SocialAccount.objects.get(provider="kakao").user.email == "typed@example.com"
    assert not EmailAddress.objects.get(email="typed@example.com").verified  # we send the usual verification mail
    assert mail.outbox[-1].to == ["typed@example.com"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_verified_email_already_with_us_signs_in_to_that_account(client, oauth_fake, switch_on, provider, django_user_model):
    existing = account(django_user_model, "nabi@example.com", verified=True)

    sign_in_with(client, oauth_fake, provider, Person(uid="4100002", email="nabi@example.com"))

    assert signed_in_user(client) == existing
    assert django_user_model.objects.count() == 1
    assert SocialAccount.objects.get(provider=provider).user == existing  # connected for next time
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


@pytest.mark.parametrize("provider", PROVIDERS_THAT_SAY_UNVERIFIED)
def test_an_email_the_provider_did_not_verify_takes_over_no_account(client, oauth_fake, switch_on, provider, django_user_model):
    existing = account(django_user_model, "nabi@example.com", verified=True)

    page = sign_in_with(client, oauth_fake, provider, Person(uid="4100003", email="nabi@example.com", email_verified=False))
    assert_told_to_sign_in_first(client, page, "nabi@example.com")

    assert not signed_in_user(client).is_authenticated
    assert not SocialAccount.objects.exists()
    assert django_user_model.objects.get() == existing


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_account_that_never_verified_its_email_is_not_taken_over(client, oauth_fake, switch_on, provider, django_user_model):
    existing = account(django_user_model, "nabi@example.com", verified=False)

    page = sign_in_with(client, oauth_fake, provider, Person(uid="4100004", email="nabi@example.com"))
    assert_told_to_sign_in_first(client, page, "nabi@example.com")

    assert not signed_in_user(client).is_authenticated
    assert not SocialAccount.objects.exists()
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # still theirs


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_without_keys_shows_no_button_and_its_login_url_is_not_found(client, switch_on, provider):
    others = [other for other in PROVIDERS if other != provider]
    switch_on(providers=others)

    for page in ("account_login", "account_signup"):
        buttons = re.findall(r'data-provider="(\w+)"', client.get(reverse(page)).content.decode())
        assert buttons == others  # in the order Korean families reach for them
    assert client.post(reverse(f"{provider}_login")).status_code == 404
    assert client.get(reverse(f"{provider}_login")).status_code == 404


def test_no_keys_at_all_show_no_social_sign_in(client, switch_on):
    switch_on(providers=[])
    page = client.get(reverse("account_login")).content.decode()
    assert "social-buttons" not in page and "social-divider" not in page


def test_a_social_application_added_in_the_admin_switches_a_provider_on(client, oauth_fake, switch_on):
    switch_on(providers=[])
    SocialApp.objects.create(provider="kakao", name="Kakao", client_id="kakao-from-admin", secret="s3cret")

    assert re.findall(r'data-provider="(\w+)"', client.get(reverse("account_login")).content.decode()) == ["kakao"]
    sign_in_with(client, oauth_fake, "kakao", Person(uid="4100005", email="admin-app@example.com"))
    assert signed_in_user(client).email == "admin-app@example.com"


def test_a_signed_in_customer_connects_a_provider_from_the_account_page(client, oauth_fake, switch_on, django_user_model):
    user = account(django_user_model, "coco@example.com", verified=True)
    client.force_login(user)

    settings_page = client.get(reverse("account_email")).content.decode()
    assert reverse("socialaccount_connections") in settings_page

    sign_in_with(client, oauth_fake, "naver", Person(uid="naver-77", email="coco.other@naver.com"), process="connect")

    assert SocialAccount.objects.get(provider="naver").user == user
    assert "naver" in client.get(reverse("socialaccount_connections")).content.decode().lower()


def test_apple_s_private_key_may_be_given_on_one_line(client, oauth_fake, switch_on, monkeypatch, settings):
    monkeypatch.setenv("SOCIAL_APPLE_PRIVATE_KEY", oauth_fake.apple_private_key_pem.replace("\n", "\\n"))
    settings.SOCIALACCOUNT_PROVIDERS = social_providers_from_env(environ.Env())

    sign_in_with(client, oauth_fake, "apple", Person(uid="001234.abcd", email="one-line@example.com"))
    assert signed_in_user(client).email == "one-line@example.com"
