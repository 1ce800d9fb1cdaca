"""Campaigns: a landing link that remembers where visitors came from, promo codes within their
caps, Premium trial days, the funnel report, and launch mode's free videos."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generation.services import job_fail
from shop.models import (
    Attribution,
    Campaign,
    CreditEntry,
    CreditReservation,
    LaunchMode,
    Order,
    Plan,
    PremiumTrial,
    PromoCode,
    Redemption,
    Subscription,
)
from shop.selectors import campaign_report, credit_balance, launch_mode_active, plan_for
from shop.services.campaigns import RedemptionRefused, campaign_redeem
from studio.services import creation_retry
from tests.conftest import require

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"


def make_campaign(**fields) -> Campaign:
    defaults = {"name": "Spring walk", "slug": "spring-walk", "grants_credits": 3}
    return Campaign.objects.create(**{**defaults, **fields})


def sign_up(client, email):
    response = client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Attribution.objects.select_related("user").get(user__email=email).user


def land(client, campaign, **utm):
    return client.get(reverse("campaign-landing", args=[campaign.slug]), utm)


def redeem(client, code):
    return client.post(reverse("shop:redeem"), {"code": code})


# --- Landing and attribution ------------------------------------------------------------------


def test_a_visitor_from_a_campaign_link_is_attributed_at_sign_up_with_the_link_s_utm_parameters():
    make_campaign(grants_credits=0)
    visitor = Client()
    response = land(visitor, Campaign.objects.get(), utm_source="instagram", utm_medium="story", utm_campaign="spring", utm_content="dog-video")
    assert response.status_code == 302 and response.url == "/accounts/signup/"
    user = sign_up(visitor, "minji@example.com")
    attribution = user.attribution
    assert (attribution.source, attribution.campaign.slug) == ("campaign", "spring-walk")
    assert (attribution.utm_source, attribution.utm_medium, attribution.utm_campaign, attribution.utm_term, attribution.utm_content) == (
        "instagram", "story", "spring", "", "dog-video"
    )
    assert attribution.landed_at <= attribution.signed_up_at
    assert Campaign.objects.get().landings == 1


def test_a_campaign_without_codes_gives_its_gift_at_sign_up():
    make_campaign(grants_credits=3)
    visitor = Client()
    land(visitor, Campaign.objects.get())
    user = sign_up(visitor, "minji@example.com")
    assert credit_balance(user=user) == 5 + 3
    assert Redemption.objects.get().user == user


def test_a_campaign_with_codes_gives_nothing_without_the_code():
    PromoCode.objects.create(campaign=make_campaign(), code="WALK")
    visitor = Client()
    land(visitor, Campaign.objects.get())
    user = sign_up(visitor, "minji@example.com")
    assert user.attribution.campaign is not None and credit_balance(user=user) == 5


def test_the_first_campaign_link_a_visitor_follows_keeps_the_credit():
    first, second = make_campaign(), make_campaign(name="Summer", slug="summer")
    visitor = Client()
    land(visitor, first, utm_source="flyer")
    land(visitor, second, utm_source="newsletter")
    land(visitor, first)  # the same link again is not a second landing
    user = sign_up(visitor, "minji@example.com")
    assert (user.attribution.campaign, user.attribution.utm_source) == (first, "flyer")
    assert [c.landings for c in Campaign.objects.order_by("pk")] == [1, 0]


@pytest.mark.parametrize(
    "fields",
    [
        {"starts_at": timezone.now() - timedelta(days=30), "ends_at": timezone.now() - timedelta(days=1)},
        {"starts_at": timezone.now() + timedelta(days=1)},
        {"is_active": False},
    ],
    ids=["ended", "not-started", "switched-off"],
)
def test_a_campaign_that_is_not_running_still_sends_visitors_on_but_attributes_nothing(fields):
    campaign = make_campaign(**fields)
    visitor = Client()
    assert land(visitor, campaign, utm_source="flyer").url == "/accounts/signup/"
    user = sign_up(visitor, "minji@example.com")
    assert (user.attribution.source, user.attribution.campaign, user.attribution.utm_source) == ("direct", None, "")
    assert Campaign.objects.get().landings == 0 and not Redemption.objects.exists()


def test_an_unknown_campaign_link_is_not_found(client):
    assert client.get("/c/no-such-campaign/").status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "accounts/signup/"])
def test_a_campaign_only_sends_visitors_to_pages_of_this_site(target):
    campaign = make_campaign(landing_redirect=target)
    with pytest.raises(ValidationError, match="A path on this site"):
        campaign.full_clean()
    assert Client().get(campaign.get_landing_url()).url == reverse("account_signup")


def test_a_campaign_sends_visitors_where_it_says():
    campaign = make_campaign(landing_redirect="/shop/premium/")
    assert Client().get(campaign.get_landing_url()).url == "/shop/premium/"


def test_a_visitor_from_a_shared_video_is_attributed_to_it(owner_client, finished_creation):
    owner_client.post(reverse("studio:creation-share", args=[finished_creation.pk]), {"shared": "on"})
    finished_creation.refresh_from_db()
    visitor = Client()
    visitor.get(finished_creation.get_share_url())
    visitor.get(reverse("studio:share-signup", args=[finished_creation.share_token]))  # "Make your own"
    attribution = sign_up(visitor, "friend@example.com").attribution
    assert (attribution.source, attribution.referrer_creation, attribution.campaign) == ("share", finished_creation.pk, None)


def test_someone_who_signs_up_straight_away_is_direct():
    assert sign_up(Client(), "minji@example.com").attribution.source == "direct"


# --- Promo codes ----------------------------------------------------------------------------------


def test_a_promo_code_gives_its_credits_once_whatever_the_case_typed(owner_client, user):
    PromoCode.objects.create(campaign=make_campaign(), code="spring-3")
    assert PromoCode.objects.get().code == "SPRING-3"
    response = redeem(owner_client, "  spring-3 ")
    assert response.status_code == 302 and response.url == reverse("shop:premium")
    assert credit_balance(user=user) == 8
    again = redeem(owner_client, "SPRING-3")
    assert again.status_code == 400 and "You have already used this offer." in again.content.decode()
    assert credit_balance(user=user) == 8 and CreditEntry.objects.filter(kind="grant").count() == 1


def test_premium_trial_days_put_the_account_on_premium_until_they_run_out(owner_client, user, monkeypatch):
    PromoCode.objects.create(campaign=make_campaign(grants_credits=0, grants_premium_days=14, trial_plan=Plan.objects.get(code="premium")), code="TRIAL14")
    redeem(owner_client, "trial14")
    assert plan_for(user=user).code == "premium" and credit_balance(user=user) == 60
    assert "Your Premium trial runs until" in owner_client.get(reverse("shop:premium")).content.decode()
    later = timezone.now() + timedelta(days=14, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert plan_for(user=user).code == "free"


def test_a_second_trial_follows_the_first_instead_of_overlapping_it(user):
    premium = Plan.objects.get(code="premium")
    for code in ("ONE", "TWO"):
        PromoCode.objects.create(campaign=make_campaign(name=code, slug=code.lower(), grants_premium_days=7, trial_plan=premium), code=code)
        campaign_redeem(user=user, code=code)
    first, second = PremiumTrial.objects.order_by("ends_at")
    assert second.starts_at == first.ends_at and second.ends_at - first.starts_at == timedelta(days=14)


def test_the_better_of_a_subscription_and_a_trial_is_the_plan(user, make_premium):
    lite = Plan.objects.create(code="lite", name="Lite", monthly_credits=20, sort_order=0)
    PromoCode.objects.create(campaign=make_campaign(grants_premium_days=30, trial_plan=lite), code="LITE")
    campaign_redeem(user=user, code="LITE")
    assert plan_for(user=user) == lite
    make_premium(user)
    assert plan_for(user=user).code == "premium"  # a Lite trial does not take paid Premium away


@pytest.mark.parametrize(
    ("code", "campaign_fields", "message"),
    [
        ("NOPE", {}, "There is no promo code “NOPE”"),
        ("OLD", {"starts_at": timezone.now() - timedelta(days=30), "ends_at": timezone.now() - timedelta(days=1)}, "This offer has ended."),
        ("OLD", {"is_active": False}, "This offer has ended."),
        ("SOON", {"starts_at": timezone.now() + timedelta(days=1)}, "This offer has not started yet."),
    ],
    ids=["unknown", "expired", "switched-off", "not-yet"],
)
def test_a_code_that_cannot_be_used_is_refused_with_the_reason(owner_client, user, code, campaign_fields, message):
    PromoCode.objects.create(campaign=make_campaign(**campaign_fields), code="OLD" if code == "OLD" else "SOON")
    response = redeem(owner_client, code)
    assert response.status_code == 400 and message in response.content.decode()
    assert credit_balance(user=user) == 5 and not Redemption.objects.exists()


def test_a_switched_off_code_is_refused_while_its_campaign_s_other_codes_work(user):
    campaign = make_campaign()
    PromoCode.objects.create(campaign=campaign, code="LEAKED", is_active=False)
    PromoCode.objects.create(campaign=campaign, code="FRESH")
    with pytest.raises(RedemptionRefused, match="There is no promo code"):
        campaign_redeem(user=user, code="leaked")
    campaign_redeem(user=user, code="fresh")
    assert credit_balance(user=user) == 8


def test_redeeming_needs_a_login(client):
    response = client.get(reverse("shop:redeem"))
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_a_campaign_s_total_cap_and_a_code_s_own_cap_hold(django_user_model):
    campaign = make_campaign(max_redemptions=3)
    PromoCode.objects.create(campaign=campaign, code="SMALL", max_redemptions=1)
    PromoCode.objects.create(campaign=campaign, code="BIG")
    users = [django_user_model.objects.create_user(email=f"u{n}@example.com", password=PASSWORD) for n in range(5)]
    campaign_redeem(user=users[0], code="SMALL")
    with pytest.raises(RedemptionRefused, match="This code has been used up."):
        campaign_redeem(user=users[1], code="SMALL")
    campaign_redeem(user=users[1], code="BIG")
    campaign_redeem(user=users[2], code="BIG")
    with pytest.raises(RedemptionRefused, match="This offer has been used up."):
        campaign_redeem(user=users[3], code="BIG")
    assert Redemption.objects.count() == 3 and credit_balance(user=users[3]) == 5


def test_an_account_redeems_a_campaign_up_to_its_per_user_cap_with_any_of_its_codes(user):
    campaign = make_campaign(max_redemptions_per_user=2)
    PromoCode.objects.create(campaign=campaign, code="A")
    PromoCode.objects.create(campaign=campaign, code="B")
    campaign_redeem(user=user, code="A")
    campaign_redeem(user=user, code="B")
    with pytest.raises(RedemptionRefused, match="You have already used this offer."):
        campaign_redeem(user=user, code="A")
    assert list(Redemption.objects.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert credit_balance(user=user) == 5 + 3 + 3


def _at_once(count: int, redeem_one) -> list[str]:
    """Run ``redeem_one(i)`` in ``count`` threads released together; what each got."""
    from django.db import close_old_connections

    outcomes, barrier = [], threading.Barrier(count)

    def run(index):
        barrier.wait()
        try:
            redeem_one(index)
            outcomes.append("redeemed")
        except RedemptionRefused:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_many_people_redeeming_at_once_cannot_pass_the_total_cap(django_user_model):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    PromoCode.objects.create(campaign=make_campaign(max_redemptions=3), code="RUSH")
    users = [django_user_model.objects.create_user(email=f"u{n}@example.com", password=PASSWORD) for n in range(8)]
    assert _at_once(8, lambda index: campaign_redeem(user=users[index], code="RUSH")) == ["redeemed"] * 3 + ["refused"] * 5
    assert Redemption.objects.count() == 3 and CreditEntry.objects.filter(kind="grant").count() == 3


@pytest.mark.django_db(transaction=True)
def test_one_account_redeeming_the_same_code_at_once_gets_it_once(user):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    PromoCode.objects.create(campaign=make_campaign(), code="TWICE")
    assert _at_once(4, lambda index: campaign_redeem(user=user, code="twice")) == ["redeemed"] + ["refused"] * 3
    assert credit_balance(user=user) == 5 + 3


# --- The funnel report ----------------------------------------------------------------------------


def paid_order(user, currency, amount, refunded=0):
    return Order.objects.create(
        customer=user, email=user.email, currency=currency, subtotal=amount, total=amount, amount_paid=amount, amount_refunded=refunded,
        paid_at=timezone.now(), status="paid",
    )


def subscription(user, status):
    return Subscription.objects.create(
        user=user, stripe_subscription_id=f"sub_{user.pk}_{status}", stripe_customer_id=f"cus_{user.pk}", plan=Plan.objects.get(code="premium"),
        status=status,
    )


def test_the_report_follows_a_campaign_s_people_from_landing_to_subscription_with_revenue_per_currency(make_creation):
    campaign, other = make_campaign(grants_credits=0), make_campaign(name="Other", slug="other", grants_credits=0)
    visitors = [Client() for _ in range(4)]
    for visitor in visitors:
        land(visitor, campaign)
    minji, joon, ara = (sign_up(visitor, f"{name}@example.com") for visitor, name in zip(visitors, ["minji", "joon", "ara"]))
    for person in (minji, minji, joon):
        make_creation(person)
    paid_order(minji, "KRW", Decimal("89000"), refunded=Decimal("10000"))
    paid_order(minji, "USD", Decimal("69.00"))
    Order.objects.create(customer=joon, email=joon.email, currency="KRW", subtotal=149000, total=149000)  # never paid
    subscription(minji, "canceled")  # it was active once, so it counts
    subscription(joon, "incomplete")  # the first payment never went through
    # Someone from another campaign, and someone who came by themselves, count for neither.
    stranger_visit = Client()
    land(stranger_visit, other)
    stranger = sign_up(stranger_visit, "stranger@example.com")
    loner = sign_up(Client(), "loner@example.com")
    for person in (stranger, loner):
        make_creation(person)
        paid_order(person, "KRW", Decimal("89000"))
        subscription(person, "active")

    report = campaign_report(campaign=campaign)
    assert [(s["stage"], s["count"], s["of_previous"]) for s in report["funnel"]] == [
        ("Landed", 4, None), ("Signed up", 3, Decimal("75.0")), ("First creation", 2, Decimal("66.7")),
        ("Frame order", 1, Decimal("50.0")), ("Subscription", 1, Decimal("100.0")),
    ]
    assert [s["of_landed"] for s in report["funnel"]] == [Decimal("100.0"), Decimal("75.0"), Decimal("50.0"), Decimal("25.0"), Decimal("25.0")]
    assert [(r["currency"], r["orders"], r["paid"], r["refunded"], r["net"]) for r in report["revenue"]] == [
        ("KRW", 1, Decimal("89000"), Decimal("10000"), Decimal("79000")), ("USD", 1, Decimal("69.00"), Decimal("0.00"), Decimal("69.00")),
    ]
    assert report["subscriptions"] == 1 and ara.attribution.campaign == campaign


def test_a_campaign_nobody_landed_through_reports_zeros_without_dividing_by_them():
    report = campaign_report(campaign=make_campaign())
    assert [(s["count"], s["of_previous"], s["of_landed"]) for s in report["funnel"]] == [(0, None, None)] * 5
    assert [r["net"] for r in report["revenue"]] == [Decimal("0"), Decimal("0.00")]


# --- Launch mode ----------------------------------------------------------------------------------


def launch_mode(**fields) -> LaunchMode:
    mode, _ = LaunchMode.objects.update_or_create(pk=1, defaults={"message": "Launch week: videos are free!", **fields})
    return mode


def test_launch_mode_makes_videos_free_until_its_end_and_then_they_cost_credits_again(make_creation, user, client, monkeypatch):
    launch_mode(is_on=True, ends_at=timezone.now() + timedelta(hours=1))
    for _ in range(6):  # one more than Free's month
        make_creation(user)
    assert not CreditEntry.objects.exists() and not CreditReservation.objects.exists()
    assert credit_balance(user=user) == 5
    assert "Launch week: videos are free!" in client.get(reverse("home")).content.decode()

    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    make_creation(user)
    assert CreditReservation.objects.count() == 1 and credit_balance(user=user) == 4
    assert "Launch week" not in client.get(reverse("home")).content.decode()


def test_making_a_failed_video_again_is_free_in_launch_mode(make_creation, user):
    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason="Out of memory.")
    creation.refresh_from_db()
    launch_mode(is_on=True)
    creation_retry(creation=creation)
    assert CreditReservation.objects.get().state == "released" and credit_balance(user=user) == 5


def test_launch_mode_counts_only_when_switched_on_and_within_its_dates():
    now = timezone.now()
    assert not launch_mode_active()
    launch_mode(is_on=False)
    assert not launch_mode_active()
    launch_mode(is_on=True, starts_at=now + timedelta(days=1))
    assert not launch_mode_active() and launch_mode_active(now=now + timedelta(days=1, seconds=1))
    launch_mode(is_on=True, starts_at=now - timedelta(days=1), ends_at=now)
    assert not launch_mode_active() and launch_mode_active(now=now - timedelta(hours=1))


def test_the_banner_costs_one_query_per_page(client):
    launch_mode(is_on=True)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("shop:catalog")).content.decode()
    assert "Launch week: videos are free!" in page
    assert len([q for q in queries.captured_queries if "shop_launchmode" in q["sql"]]) == 1
