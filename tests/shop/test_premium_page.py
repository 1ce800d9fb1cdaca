"""The Premium page tells a signed-in customer which plan they are on, on the plan's own card."""
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

pytestmark = pytest.mark.django_db


def plan_card(page: str, code: str) -> str:
    match = re.search(rf'<div class="card plan-card[^"]*" data-plan="{code}">(.*?)</div>', page, re.S)
    assert match, f"no card for {code}"
    return match.group(0)


def test_a_free_customer_sees_the_free_card_marked_as_theirs(owner_client):
    page = owner_client.get(reverse("shop:premium")).content.decode()
    assert "current" in plan_card(page, "free").split(">")[0] and "Your plan" in plan_card(page, "free")
    assert "Your plan" not in plan_card(page, "premium")


@pytest.mark.parametrize("cancelled, says", [(False, "Renews on"), (True, "Ends on")])
def test_a_subscriber_sees_the_premium_card_marked_with_its_renewal_or_end(owner_client, user, make_premium, cancelled, says):
    subscription = make_premium(user)
    subscription.current_period_end = timezone.now() + datetime.timedelta(days=20)
    subscription.cancel_at_period_end = cancelled
    subscription.save()
    page = owner_client.get(reverse("shop:premium")).content.decode()
    card = plan_card(page, "premium")
    when = date_format(timezone.localtime(subscription.current_period_end))
    assert "Your plan" in card and f"{says} {when}" in card
    assert "Your plan" not in plan_card(page, "free")


def test_a_visitor_sees_no_card_marked(client):
    page = client.get(reverse("shop:premium")).content.decode()
    assert "Your plan" not in page
