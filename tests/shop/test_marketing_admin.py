"""Marketing staff run campaigns and read their reports in the admin, and see nothing of orders,
payments, subscriptions, credits, people's accounts or their videos."""
import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shop.models import Campaign, LaunchMode, Order, PromoCode
from shop.selectors import campaign_report
from tests.factories import order_make, staff_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(django_user_model):
    return staff_make("marketing@example.com", groups=["Marketing"])  # a group the campaigns migration makes


@pytest.fixture
def marketing_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def campaign_with_a_customer(make_creation):
    """A campaign one visitor landed through, signed up, made a video and bought a frame from."""
    campaign = Campaign.objects.create(name="Spring walk", slug="spring-walk")
    visitor = Client()
    visitor.get(campaign.get_landing_url(), {"utm_source": "instagram"})
    Client().get(campaign.get_landing_url())
    visitor.post(reverse("account_signup"), {"email": "minji@example.com", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"})
    customer = campaign.attributions.get().user
    make_creation(customer)
    Order.objects.create(
        customer=customer, email=customer.email, currency="KRW", subtotal=89000, total=89000, amount_paid=89000, paid_at=timezone.now(), status="paid"
    )
    return campaign


def admin_url(model: str, view="changelist", *args) -> str:
    app = "studio" if model == "creation" else "accounts" if model == "user" else "shop"
    return reverse(f"admin:{app}_{model}_{view}", args=args)


@pytest.mark.parametrize("model", ["campaign", "promocode", "redemption", "attribution", "premiumtrial", "launchmode"])
def test_marketing_staff_open_the_campaign_pages(marketing_client, model):
    assert marketing_client.get(admin_url(model)).status_code == 200


@pytest.mark.parametrize("model", ["order", "payment", "subscription", "billingcustomer", "creditentry", "creditreservation", "creation", "user"])
def test_marketing_staff_cannot_open_orders_payments_accounts_or_videos(marketing_client, model):
    assert marketing_client.get(admin_url(model)).status_code == 403


def test_marketing_staff_cannot_open_an_order_or_a_video_by_its_address(marketing_client, finished_creation):
    order = order_make(finished_creation.owner, email="owner@example.com")
    assert marketing_client.get(admin_url("order", "change", order.pk)).status_code == 403
    assert marketing_client.get(admin_url("creation", "change", finished_creation.pk)).status_code == 403
    assert marketing_client.get(reverse("studio:creation-detail", args=[finished_creation.pk])).status_code == 404


def test_marketing_staff_make_a_campaign_with_a_code_and_the_code_is_unique_in_any_case(marketing_client, marketer):
    PromoCode.objects.create(campaign=Campaign.objects.create(name="Old", slug="old"), code="WALK")
    form = {
        "name": "Spring walk", "slug": "spring-walk", "description": "", "is_active": "on", "starts_at_0": "2026-03-01", "starts_at_1": "00:00:00",
        "ends_at_0": "2026-04-01", "ends_at_1": "00:00:00", "landing_redirect": "/accounts/signup/", "grants_credits": "3", "grants_premium_days": "0",
        "trial_plan": "", "max_redemptions": "500", "max_redemptions_per_user": "1",
        "codes-TOTAL_FORMS": "1", "codes-INITIAL_FORMS": "0", "codes-MIN_NUM_FORMS": "0", "codes-MAX_NUM_FORMS": "1000",
        "codes-0-code": "walk", "codes-0-is_active": "on", "codes-0-max_redemptions": "",
    }
    clash = marketing_client.post(admin_url("campaign", "add"), form)
    assert clash.status_code == 200 and "Promo code with this Code already exists." in clash.content.decode()
    response = marketing_client.post(admin_url("campaign", "add"), {**form, "codes-0-code": "spring-walk"})
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(slug="spring-walk")
    assert campaign.created_by == marketer and list(campaign.codes.values_list("code", flat=True)) == ["SPRING-WALK"]


def test_a_campaign_with_trial_days_must_say_which_plan_they_give(marketing_client):
    form = {
        "name": "Trial", "slug": "trial", "is_active": "on", "starts_at_0": "2026-03-01", "starts_at_1": "00:00:00", "landing_redirect": "/accounts/signup/",
        "grants_credits": "0", "grants_premium_days": "14", "trial_plan": "", "max_redemptions_per_user": "1",
        "codes-TOTAL_FORMS": "0", "codes-INITIAL_FORMS": "0", "codes-MIN_NUM_FORMS": "0", "codes-MAX_NUM_FORMS": "1000",
    }
    response = marketing_client.post(admin_url("campaign", "add"), form)
    assert response.status_code == 200 and "Choose the plan the trial days give." in response.content.decode()


def test_marketing_staff_switch_launch_mode_on_with_dates(marketing_client):
    response = marketing_client.post(admin_url("launchmode", "change", 1), {
        "is_on": "on", "starts_at_0": "2026-03-01", "starts_at_1": "00:00:00", "ends_at_0": "2026-03-08", "ends_at_1": "00:00:00",
        "message": "Launch week: videos are free!",
    })
    assert response.status_code == 302
    mode = LaunchMode.objects.get()
    assert mode.is_on and (mode.ends_at - mode.starts_at).days == 7
    assert marketing_client.get(admin_url("launchmode", "add")).status_code == 403  # there is only the one


def test_the_report_shows_the_funnel_revenue_and_a_chart(marketing_client, campaign_with_a_customer):
    changelist = marketing_client.get(admin_url("campaign")).content.decode()
    report_url = reverse("admin:shop_campaign_report", args=[campaign_with_a_customer.pk])
    assert f'href="{report_url}"' in changelist
    page = marketing_client.get(report_url).content.decode()
    start = page.index('id="funnel"')
    funnel = page[start:page.index("</table>", start)]
    for row in ["<td>Landed</td><td>2</td>", "<td>Signed up</td><td>1</td>", "<td>First creation</td><td>1</td>", "<td>Frame order</td><td>1</td>",
                "<td>Subscription</td><td>0</td>"]:
        assert row in funnel
    assert "50.0%" in funnel
    assert '<svg id="funnel-chart"' in page and page.count("<rect ") == 5
    assert "₩89,000" in page and "$0.00" in page
    assert f'href="{reverse("admin:shop_campaign_report_csv", args=[campaign_with_a_customer.pk])}"' in page


def test_the_report_s_csv_has_the_same_numbers(marketing_client, campaign_with_a_customer):
    response = marketing_client.get(reverse("admin:shop_campaign_report_csv", args=[campaign_with_a_customer.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="campaign-spring-walk-report.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    report = campaign_report(campaign=campaign_with_a_customer)
    assert rows[1:6] == [[s["stage"], str(s["count"]), "" if s["of_previous"] is None else str(s["of_previous"]), str(s["of_landed"])] for s in report["funnel"]]
    assert rows[1:3] == [["Landed", "2", "", "100.0"], ["Signed up", "1", "50.0", "50.0"]]
    assert ["KRW", "1", "89000", "0", "89000"] in rows and ["USD", "0", "0.00", "0.00", "0.00"] in rows
    assert ["subscriptions", "0"] in rows


def test_staff_outside_the_marketing_group_cannot_open_a_report(client, django_user_model):
    campaign = Campaign.objects.create(name="Spring walk", slug="spring-walk")
    client.force_login(staff_make("support@example.com"))
    assert client.get(reverse("admin:shop_campaign_report", args=[campaign.pk])).status_code == 403
    assert client.get(reverse("admin:shop_campaign_report_csv", args=[campaign.pk])).status_code == 403
