"""Buying a frame as a gift and subscribing to Premium in a real browser, with the Stripe
emulator's Checkout and Billing Portal pages standing in for Stripe's hosted ones."""
import pytest
from django.urls import reverse

from shop.models import Order, Subscription
from tests.integration.test_browser import page  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop_site(stripe_api, live_server, settings, user):
    settings.SITE_URL = live_server.url
    stripe_api.set_webhook(live_server.url + reverse("shop:stripe-webhook"), settings.STRIPE_WEBHOOK_SECRET)
    return live_server.url


def log_in(page, site, user):  # noqa: F811
    page.goto(site + reverse("account_login"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "a-long-pass-phrase")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/studio/")


def test_a_customer_buys_a_frame_as_a_gift_and_sees_it_paid(page, shop_site, user):  # noqa: F811
    log_in(page, shop_site, user)
    page.goto(shop_site + reverse("shop:catalog"))
    page.select_option("select[name=currency]", "KRW")
    page.wait_for_load_state()
    page.get_by_role("link", name="PetMemories Classic").click()
    page.get_by_label("Walnut").last.check()
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/shop/cart/")
    assert "₩199,000" in page.inner_text("#subtotal")
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("This is a gift").check()
    page.fill("input[name=gift_recipient_name]", "Lee Soonja")
    page.fill("textarea[name=gift_message]", "For Nabi's favourite windowsill")
    page.get_by_role("button", name="Continue to payment").click()

    # The emulator's Checkout page, in place of Stripe's.
    page.wait_for_url("**/pay/cs_*")
    assert "₩199,000" in page.content()
    page.fill("#shipping-name", "Lee Soonja")
    page.fill("#shipping-line1", "45 Haeundae-ro")
    page.fill("#shipping-city", "Busan")
    page.fill("#shipping-postal-code", "48094")
    page.select_option("#shipping-country", "KR") if page.locator("select#shipping-country").count() else page.fill("#shipping-country", "KR")
    page.click("#pay")

    # Back with us: paid only once the webhook has come, and the page notices by itself.
    page.wait_for_url("**/shop/orders/PM-*/")
    page.wait_for_selector("text=Paid.", timeout=20_000)
    order = Order.objects.get()
    assert order.is_gift and order.ship_city == "Busan" and order.total == 199000 and order.status == "paid"


def test_a_customer_subscribes_manages_and_cancels_premium(page, shop_site, user):  # noqa: F811
    log_in(page, shop_site, user)
    page.goto(shop_site + reverse("shop:premium"))
    page.select_option("select[name=currency]", "USD")
    page.wait_for_load_state()
    assert "You are on Free" in page.inner_text("#current-plan")
    page.click("button[data-interval=month]")
    page.wait_for_url("**/pay/cs_*")
    page.click("#pay")
    page.wait_for_url("**/shop/premium/?welcome=1")
    for _ in range(20):  # the webhook may land after the redirect
        if "You are on Premium" in page.inner_text("#current-plan"):
            break
        page.wait_for_timeout(500)
        page.reload()
    assert "You are on Premium" in page.inner_text("#current-plan")

    page.click("#manage")
    page.wait_for_url("**/portal/bps_*")
    page.get_by_role("button", name="Cancel plan").click()
    page.get_by_role("link", name="Return to PetMemories").click()
    page.wait_for_url("**/shop/premium/")
    assert "It ends on" in page.inner_text("#current-plan")
    assert Subscription.objects.get().cancel_at_period_end
