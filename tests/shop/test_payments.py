"""Buying frames and Premium against a local Stripe (localstripe and the Checkout and Billing
Portal fakes, over HTTP), with its real signed webhooks reaching our endpoint."""
import pytest
from django.core import mail
from django.urls import reverse

from shop.models import CartItem, FrameVariant, Order, Payment, PlanPrice, StripeEvent, Subscription
from shop.selectors import plan_for
from tests.conftest import SHIPPING, buy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stripe(stripe_api, live_server, settings):
    """…and Stripe's webhooks delivered to our endpoint on a live server."""
    settings.SITE_URL = live_server.url
    stripe_api.set_webhook(live_server.url + reverse("shop:stripe-webhook"), settings.STRIPE_WEBHOOK_SECRET)
    return stripe_api


def test_a_frame_is_paid_only_when_stripe_s_webhook_says_so(client, user, stripe):
    order = buy(client, user, "CLASSIC-10-WALNUT", quantity=2)
    assert order.status == "pending" and order.total == 298000
    session = stripe.client().v1.checkout.sessions.retrieve(order.checkout_session_id)
    assert (session.amount_total, session.currency) == (298000, "krw")  # won reach Stripe unmultiplied
    # Coming back from Checkout proves nothing: the order is still pending.
    back = client.get(reverse("shop:checkout-return"), {"session_id": order.checkout_session_id}, follow=True)
    assert "Waiting for the payment to be confirmed" in back.content.decode()

    stripe.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    order.refresh_from_db()
    assert order.status == "paid" and order.amount_paid == 298000 and order.payment_intent_id.startswith("pi_")
    assert order.shipping_address_lines == ["Minji Kim", "12 Sejong-daero", "04524 Seoul", "KR"]
    assert FrameVariant.objects.get(sku="CLASSIC-10-WALNUT").stock == 28
    assert not CartItem.objects.exists()
    assert Payment.objects.get(order=order).amount == 298000
    assert [message.subject for message in mail.outbox] == [f"Your PetMemories order {order.number} is paid"]
    assert "Paid" in client.get(order.get_absolute_url()).content.decode()


def test_dollars_reach_stripe_in_cents(client, user, stripe):
    order = buy(client, user, "MINI-8-SNOW", currency="USD")
    session = stripe.client().v1.checkout.sessions.retrieve(order.checkout_session_id)
    assert (session.amount_total, session.currency, order.total) == (6900, "usd", 69)


def test_a_gift_ships_to_the_recipient_with_the_message(client, user, stripe, finished_creation):
    order = buy(
        client, user, "PORTRAIT-10-OAK", is_gift="on", gift_recipient_name="Grandma Lee", gift_message="Nabi, always with you",
        preload=[finished_creation.pk],
    )
    stripe.complete_checkout(order.checkout_session_id, shipping={**SHIPPING, "name": "Lee Soonja"})
    order.refresh_from_db()
    assert order.is_gift and order.status == "paid" and order.ship_name == "Lee Soonja"
    assert list(order.preload.all()) == [finished_creation]
    [paid] = [message for message in mail.outbox if "is paid" in message.subject]
    assert "Grandma Lee" in paid.body and "no prices" in paid.body


def test_a_gift_needs_a_recipient(client, user, stripe):
    client.force_login(user)
    client.post(reverse("shop:cart-add"), {"variant": FrameVariant.objects.get(sku="MINI-8-SNOW").pk})
    response = client.post(reverse("shop:checkout"), {"is_gift": "on"})
    assert response.status_code == 200 and "Whom is it for?" in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_rechecks_the_cart_and_tells_of_a_new_price(client, user, stripe):
    client.force_login(user)
    client.post(reverse("shop:cart-add"), {"variant": FrameVariant.objects.get(sku="MINI-8-SNOW").pk})
    FrameVariant.objects.filter(sku="MINI-8-SNOW").update(price_usd="59.00", price_krw="79000")
    response = client.post(reverse("shop:checkout"), {}, follow=True)
    assert "changed from" in response.content.decode() and not Order.objects.exists()
    assert "/pay/cs_" in client.post(reverse("shop:checkout"), {}).url  # the second time, at the new price


def test_a_payment_that_does_not_match_the_order_is_flagged_not_paid(client, user, stripe):
    order = buy(client, user, "MINI-8-SNOW")
    Order.objects.filter(pk=order.pk).update(total=99000)  # as if the order had changed after Checkout opened
    stripe.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    order.refresh_from_db()
    assert order.status == "pending" and order.needs_attention and "89000 KRW paid for an order of 99000 KRW" in order.attention_note
    assert "There is a problem with the payment" in client.get(order.get_absolute_url()).content.decode()


def test_staff_refund_part_of_an_order_and_stripe_s_refund_event_does_not_count_it_twice(client, admin_client, user, stripe):
    order = buy(client, user, "GALLERY-15-BLACK")
    stripe.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    changelist = reverse("admin:shop_order_changelist")
    admin_client.post(changelist, {"action": "refund", "_selected_action": [order.pk], "confirm": "1", "amount": "59000"})
    order.refresh_from_db()
    assert order.amount_refunded == 59000
    intent = stripe.client().v1.payment_intents.retrieve(order.payment_intent_id)
    charge = stripe.client().v1.charges.retrieve(intent.latest_charge if isinstance(intent.latest_charge, str) else intent.latest_charge.id)
    assert charge.amount_refunded == 59000
    for _ in range(2):  # Stripe's charge.refunded, delivered and then redelivered
        stripe.send_event("charge.refunded", charge.to_dict())
    order.refresh_from_db()
    assert order.amount_refunded == 59000 and order.payments.filter(kind="refund").count() == 1
    admin_client.post(changelist, {"action": "refund", "_selected_action": [order.pk], "confirm": "1", "amount": ""})
    order.refresh_from_db()
    assert order.amount_refunded == 259000 and order.refundable == 0
    admin_client.post(changelist, {"action": "cancel", "_selected_action": [order.pk]})
    assert Order.objects.get(pk=order.pk).status == "canceled"


def test_staff_fulfil_an_order_and_the_customer_hears_when_it_ships(client, admin_client, user, stripe):
    order = buy(client, user, "MINI-8-SNOW")
    stripe.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    changelist = reverse("admin:shop_order_changelist")
    advance = {"action": "advance", "_selected_action": [order.pk]}
    admin_client.post(changelist, advance)
    assert Order.objects.get(pk=order.pk).status == "in_production"
    admin_client.post(changelist, advance)  # no tracking number yet: refused
    assert Order.objects.get(pk=order.pk).status == "in_production"
    Order.objects.filter(pk=order.pk).update(carrier="CJ Logistics", tracking_number="6401-2345-6789")
    admin_client.post(changelist, advance)
    admin_client.post(changelist, advance)
    order.refresh_from_db()
    assert order.status == "delivered" and order.shipped_at and order.delivered_at
    assert "6401-2345-6789" in mail.outbox[-1].body and mail.outbox[-1].to == [user.email]
    assert "CJ Logistics tracking number: 6401-2345-6789" in client.get(order.get_absolute_url()).content.decode()


def test_premium_is_bought_managed_and_takes_effect_on_the_next_creation(client, user, stripe, make_creation):
    client.force_login(user)
    price = PlanPrice.objects.get(plan__code="premium", interval="month", currency="KRW")
    client.post(reverse("shop:currency"), {"currency": "KRW"})
    response = client.post(reverse("shop:subscribe", args=[price.pk]))
    assert "/pay/cs_" in response.url
    stripe.complete_checkout(response.url.rsplit("/", 1)[1])
    subscription = Subscription.objects.get(user=user)
    assert subscription.status == "active" and subscription.plan.code == "premium" and subscription.current_period_end
    assert plan_for(user=user).code == "premium"
    job = make_creation(user, params={"height": 1080, "seconds": 2, "fps": 12}).job
    assert (job.priority, job.watermark) == (True, False)

    portal = client.post(reverse("shop:billing-portal"))
    assert "/portal/bps_" in portal.url
    stripe.portal_action(portal.url.rsplit("/", 1)[1], "cancel", subscription.stripe_subscription_id)
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and plan_for(user=user).code == "premium"  # until the period ends
    assert "It ends on" in client.get(reverse("shop:premium")).content.decode()
    # Subscribing twice is refused while one is running.
    again = client.post(reverse("shop:subscribe", args=[price.pk]), follow=True)
    assert "You are already on Premium" in again.content.decode()


def test_a_canceled_subscription_ends_premium(client, user, stripe):
    client.force_login(user)
    price = PlanPrice.objects.get(plan__code="premium", interval="month", currency="USD")
    stripe.complete_checkout(client.post(reverse("shop:subscribe", args=[price.pk])).url.rsplit("/", 1)[1])
    subscription = Subscription.objects.get(user=user)
    stripe.client().v1.subscriptions.cancel(subscription.stripe_subscription_id)
    _wait_for(lambda: Subscription.objects.get(pk=subscription.pk).status == "canceled")
    assert plan_for(user=user).code == "free"


def _wait_for(condition, timeout=10.0):
    from tests.conftest import wait_for

    wait_for(condition, timeout=timeout)


def test_every_event_is_stored_once(client, user, stripe):
    order = buy(client, user, "MINI-8-SNOW")
    stripe.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    assert StripeEvent.objects.filter(type="checkout.session.completed").count() == 1
