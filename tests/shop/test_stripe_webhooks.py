"""/shop/stripe/webhook/: signed deliveries only, each event once, and books that stay right
when events are forged, stale, replayed, out of order or delivered twice at the same time."""
import json
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from shop.models import BillingCustomer, FrameVariant, Order, Payment, PlanPrice, StripeEvent, Subscription
from shop.selectors import plan_for
from tests.conftest import SHIPPING, buy, require
from tools.stripe_emulator import stripe_signature_header

URL = "/shop/stripe/webhook/"


def deliver(client, event: dict, *, secret="whsec_test_petmemories", timestamp=None, signature=None):
    payload = json.dumps(event).encode()
    header = signature if signature is not None else stripe_signature_header(payload, secret, int(timestamp or time.time()))
    return client.post(URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{type_.replace('.', '_')}_{obj['id']}", "object": "event", "type": type_, "created": int(time.time()), "data": {"object": obj}}


@pytest.fixture
def paid_session(client, user, stripe_api):
    """An order whose Checkout Session Stripe has completed; no webhook has reached us yet."""
    order = buy(client, user, "MINI-8-SNOW")
    session = stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    return order, session


@pytest.mark.django_db
@pytest.mark.parametrize("signature", ["", "t=1,v1=deadbeef", "garbage"], ids=["missing", "forged", "malformed"])
def test_a_delivery_without_a_valid_signature_gets_400_and_changes_nothing(client, paid_session, signature):
    order, session = paid_session
    response = deliver(client, event("checkout.session.completed", session), signature=signature)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists() and Order.objects.get(pk=order.pk).status == "pending"


@pytest.mark.django_db
def test_a_payload_signed_with_another_secret_or_changed_after_signing_is_refused(client, paid_session):
    order, session = paid_session
    assert deliver(client, event("checkout.session.completed", session), secret="whsec_someone_else").status_code == 400
    payload = json.dumps(event("checkout.session.completed", session)).encode()
    header = stripe_signature_header(payload, "whsec_test_petmemories", int(time.time()))
    tampered = payload.replace(b'"paid"', b'"PAID"')
    assert client.post(URL, tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header).status_code == 400
    assert Order.objects.get(pk=order.pk).status == "pending"


@pytest.mark.django_db
def test_a_stale_delivery_is_refused_and_a_fresh_one_accepted(client, paid_session):
    order, session = paid_session
    assert deliver(client, event("checkout.session.completed", session), timestamp=time.time() - 301).status_code == 400
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert deliver(client, event("checkout.session.completed", session), timestamp=time.time() - 5).status_code == 200
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.django_db
def test_a_replayed_event_is_answered_200_ten_times_and_counted_once(client, paid_session, django_capture_on_commit_callbacks):
    order, session = paid_session
    completed = event("checkout.session.completed", session)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [deliver(client, completed).json() for _ in range(10)]
    assert answers[0] == {"received": True, "duplicate": False}
    assert all(answer == {"received": True, "duplicate": True} for answer in answers[1:])
    assert Payment.objects.filter(order=order).count() == 1 and FrameVariant.objects.get(sku="MINI-8-SNOW").stock == 39
    assert len(mail.outbox) == 1 and StripeEvent.objects.count() == 1


@pytest.mark.django_db
def test_the_same_payment_told_by_a_different_event_is_not_counted_twice(client, paid_session):
    order, session = paid_session
    deliver(client, event("checkout.session.completed", session, "evt_first"))
    deliver(client, event("checkout.session.async_payment_succeeded", session, "evt_second"))
    order.refresh_from_db()
    assert order.amount_paid == 89000 and Payment.objects.filter(order=order).count() == 1 and StripeEvent.objects.count() == 2


@pytest.mark.django_db
def test_the_handler_believes_stripe_not_the_event_s_copy(client, user, stripe_api):
    order = buy(client, user, "MINI-8-SNOW")
    session = stripe_api.client().v1.checkout.sessions.retrieve(order.checkout_session_id).to_dict()
    forged_copy = {**session, "status": "complete", "payment_status": "paid", "amount_total": 89000}
    assert deliver(client, event("checkout.session.completed", forged_copy)).status_code == 200
    assert Order.objects.get(pk=order.pk).status == "pending"  # Stripe says the session is still open


@pytest.mark.django_db
def test_other_events_are_acknowledged_and_ignored(client, stripe_api):
    response = deliver(client, event("customer.created", {"id": "cus_nobody", "object": "customer"}))
    assert response.status_code == 200 and StripeEvent.objects.get().type == "customer.created"


@pytest.mark.django_db
def test_when_stripe_cannot_be_reached_the_delivery_fails_and_its_retry_succeeds(client, paid_session, settings):
    order, session = paid_session
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    completed = event("checkout.session.completed", session)
    assert deliver(client, completed).status_code == 500
    assert not StripeEvent.objects.exists() and Order.objects.get(pk=order.pk).status == "pending"
    settings.STRIPE_API_BASE = api_base
    assert deliver(client, completed).json() == {"received": True, "duplicate": False}
    assert Order.objects.get(pk=order.pk).status == "paid"


def _subscription(stripe_api, user, card="4242424242424242"):
    """A Premium subscription made in Stripe, as Checkout would, for a customer of ours."""
    api = stripe_api.client()
    customer = api.v1.customers.create({"email": user.email})
    method = api.v1.payment_methods.create({"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    api.v1.payment_methods.attach(method.id, {"customer": customer.id})
    api.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": method.id}})
    BillingCustomer.objects.create(user=user, stripe_customer_id=customer.id)
    price = PlanPrice.objects.get(plan__code="premium", interval="month", currency="KRW")
    return api.v1.subscriptions.create({"customer": customer.id, "items": [{"plan": price.stripe_price_id}]}).to_dict()


@pytest.mark.django_db
def test_subscription_events_out_of_order_leave_the_subscription_as_stripe_has_it(client, user, stripe_api):
    subscription = _subscription(stripe_api, user)
    stripe_api.client().v1.subscriptions.update(subscription["id"], {"cancel_at_period_end": True})
    created_snapshot = {**subscription, "status": "incomplete", "cancel_at_period_end": False}
    deliver(client, event("customer.subscription.updated", {**subscription, "cancel_at_period_end": True}))
    deliver(client, event("customer.subscription.created", created_snapshot))  # arrives last, with older news
    ours = Subscription.objects.get()
    assert (ours.status, ours.cancel_at_period_end) == ("active", True)
    assert plan_for(user=user).code == "premium"


@pytest.mark.django_db
def test_a_deleted_subscription_ends_premium_even_when_stripe_has_forgotten_it(client, user, stripe_api):
    subscription = _subscription(stripe_api, user)
    deliver(client, event("customer.subscription.created", subscription))
    assert plan_for(user=user).code == "premium"
    stripe_api.client().v1.subscriptions.cancel(subscription["id"])
    deliver(client, event("customer.subscription.deleted", {**subscription, "status": "canceled"}))
    assert Subscription.objects.get().status == "canceled" and plan_for(user=user).code == "free"


@pytest.mark.django_db
def test_a_failed_renewal_then_a_paid_one_keeps_the_books_right(client, user, stripe_api):
    subscription = _subscription(stripe_api, user)
    api = stripe_api.client()
    deliver(client, event("customer.subscription.created", subscription))
    # The renewal fails: the card on file now declines charges, and the subscription goes past due.
    declining = api.v1.payment_methods.create({"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    api.v1.payment_methods.attach(declining.id, {"customer": subscription["customer"]})
    api.v1.customers.update(subscription["customer"], {"invoice_settings": {"default_payment_method": declining.id}})
    api.v1.invoice_items.create({"customer": subscription["customer"], "amount": 9900, "currency": "krw"})
    invoice = api.v1.invoices.create({"customer": subscription["customer"], "subscription": subscription["id"]})
    api.v1.invoices.pay(invoice.id)
    failed = api.v1.invoices.retrieve(invoice.id).to_dict()
    assert failed["status"] == "open"  # not paid
    assert deliver(client, event("invoice.payment_failed", failed)).status_code == 200
    ours = Subscription.objects.get()
    assert ours.status == "past_due" and ours.past_due_since is not None
    assert plan_for(user=user).code == "premium"  # within the grace period
    # The customer fixes the card; the invoice is paid.
    good = api.v1.payment_methods.create({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    api.v1.payment_methods.attach(good.id, {"customer": subscription["customer"]})
    api.v1.customers.update(subscription["customer"], {"invoice_settings": {"default_payment_method": good.id}})
    api.v1.invoices.pay(invoice.id)
    paid = api.v1.invoices.retrieve(invoice.id).to_dict()
    deliver(client, event("invoice.paid", paid))
    deliver(client, event("invoice.payment_failed", failed, "evt_late_failure"))  # a late copy of the failure changes nothing
    ours.refresh_from_db()
    assert ours.status == "active" and ours.past_due_since is None


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_the_same_moment_count_once(user, stripe_api):
    require(connection.vendor == "postgresql", "concurrent transactions need PostgreSQL")
    from django.db import close_old_connections

    order = buy(Client(), user, "MINI-8-SNOW")
    session = stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    completed = event("checkout.session.completed", session)
    answers, barrier = [], threading.Barrier(4)

    def post():
        barrier.wait()
        try:
            answers.append(deliver(Client(), completed).json()["duplicate"])
        finally:
            close_old_connections()

    threads = [threading.Thread(target=post) for _ in range(4)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert sorted(answers) == [False, True, True, True]
    assert Payment.objects.filter(order=order).count() == 1 and FrameVariant.objects.get(sku="MINI-8-SNOW").stock == 39
