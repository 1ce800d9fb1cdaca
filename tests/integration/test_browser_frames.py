"""In a real browser: pairing a digital frame with the code it shows and choosing what it plays,
and arriving through a campaign link and signing up with its free videos."""
import json
import urllib.request

import pytest
from django.urls import reverse

from shop.models import Attribution, Campaign
from shop.selectors import credit_balance
from studio.models import Device
from tests.integration.test_browser import page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api(url, *, token=None, body=None):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body is not None else None, method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_an_owner_pairs_a_frame_and_chooses_what_it_plays(page, live_server, finished_creation, user):  # noqa: F811
    frame = api(live_server.url + "/api/frames/register", body={"name": "Hall", "screen_width": 1280, "screen_height": 720})
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "a-long-pass-phrase")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/studio/")
    page.goto(live_server.url + reverse("studio:frame-pair"))
    page.fill("input[name=code]", frame["pairing_code"].lower())
    page.fill("input[name=name]", "Hall")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/frames/*-*/")
    page.get_by_label("Chelsea").check()
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url("**/frames/*-*/")
    playlist = api(live_server.url + "/api/frames/playlist", token=frame["token"])
    assert [item["id"] for item in playlist["items"]] == [str(finished_creation.pk)]
    assert Device.objects.get().owner == user


def test_a_visitor_arrives_through_a_campaign_and_signs_up_with_its_videos(page, live_server):  # noqa: F811
    Campaign.objects.create(name="Busan pet fair", slug="busan-fair", grants_credits=3)
    page.goto(live_server.url + "/c/busan-fair/?utm_source=flyer&utm_medium=print&utm_campaign=fair2026")
    page.wait_for_url("**/accounts/signup/**")
    page.fill("input[name=email]", "jiwoo@example.com")
    page.fill("input[name=password1]", "whiskers-on-kittens-9")
    page.fill("input[name=password2]", "whiskers-on-kittens-9")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/studio/")
    attribution = Attribution.objects.get()
    assert (attribution.campaign.slug, attribution.utm_source, attribution.utm_medium) == ("busan-fair", "flyer", "print")
    assert credit_balance(user=attribution.user) == 5 + 3
