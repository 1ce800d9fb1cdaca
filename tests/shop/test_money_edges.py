"""Money at the edges: an order canceled while its payment page is open, a payment that
arrives for a canceled order, and a failed video made again twice at once."""
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from generation.models import Job
from generation.services import job_fail
from shop.models import CreditEntry, CreditReservation, FrameVariant, Order, Payment
from shop.selectors import credit_balance
from shop.services.orders import OrderError, order_cancel, order_payment_sync
from studio.services import creation_retry
from tests.conftest import SHIPPING, buy, require
from tests.races import race
from tests.shop.test_stripe_webhooks import deliver, event
from tools.stripe_emulator import EmulatorError


@pytest.mark.django_db
def test_canceling_a_pending_order_closes_its_payment_page_so_it_can_no_longer_be_paid(client, user, stripe_api):
    order = buy(client, user, "MINI-8-SNOW")
    order_cancel(order=order)
    session = stripe_api.client().v1.checkout.sessions.retrieve(order.checkout_session_id)
    assert (session.status, session.url) == ("expired", None)
    with pytest.raises(EmulatorError) as refused:
        stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    assert refused.value.status == 400
    order.refresh_from_db()
    assert order.status == "canceled" and not order.payment_intent_id and not Payment.objects.exists()
    assert FrameVariant.objects.get(sku="MINI-8-SNOW").stock == 40


@pytest.mark.django_db
def test_an_order_paid_a_moment_before_staff_cancel_it_stays_paid_and_staff_are_told(
    client, user, stripe_api, django_capture_on_commit_callbacks
):
    order = buy(client, user, "MINI-8-SNOW")
    stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)  # its webhook has not reached us yet
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OrderError, match="was paid a moment ago, so it was not canceled"):
        order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == "paid" and order.amount_paid == 89000 and order.canceled_at is None
    assert FrameVariant.objects.get(sku="MINI-8-SNOW").stock == 39
    assert [message.subject for message in mail.outbox] == [f"Your PetMemories order {order.number} is paid"]


@pytest.mark.django_db
def test_a_payment_that_reaches_a_canceled_order_is_refunded_once_flagged_and_takes_no_stock(
    client, user, stripe_api, django_capture_on_commit_callbacks
):
    order = buy(client, user, "MINI-8-SNOW")
    # Canceled while its payment page stayed open (as every cancel did before pages were closed).
    Order.objects.filter(pk=order.pk).update(status="canceled")
    session = stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    with django_capture_on_commit_callbacks(execute=True):
        for delivery in (
            event("checkout.session.completed", session), event("checkout.session.completed", session),  # replayed
            event("checkout.session.async_payment_succeeded", session, "evt_same_payment_again"),
        ):
            assert deliver(client, delivery).status_code == 200
        order_payment_sync(checkout_session_id=order.checkout_session_id)  # and synced by hand

    refunds = stripe_api.client().v1.refunds.list({"payment_intent": session["payment_intent"]}).data
    assert [(refund.amount, refund.status) for refund in refunds] == [(89000, "succeeded")]
    order.refresh_from_db()
    assert order.status == "canceled" and not order.is_paid
    assert (order.amount_paid, order.amount_refunded, order.refundable) == (89000, 89000, 0)
    assert order.needs_attention and "refunded in full automatically" in order.attention_note
    assert sorted(order.payments.values_list("kind", flat=True)) == ["charge", "refund"]
    assert FrameVariant.objects.get(sku="MINI-8-SNOW").stock == 40 and mail.outbox == []
    page = client.get(order.get_absolute_url()).content.decode()
    assert "This order was canceled." in page and "Refunded: ₩89,000" in page


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_make_it_again_makes_one_job_and_spends_one_credit(make_creation, user):
    require(connection.vendor == "postgresql", "concurrent transactions need PostgreSQL")
    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason="Out of memory.")
    assert credit_balance(user=user) == 5

    def click():
        browser = Client()
        browser.force_login(user)
        return browser.post(reverse("studio:creation-retry", args=[creation.pk]), follow=True).content.decode()

    pages = race(click, click, writes_to=Job)

    assert Job.objects.count() == 2  # the failed one and one retry
    assert credit_balance(user=user) == 4 and CreditReservation.objects.filter(state="reserved").count() == 1
    assert CreditEntry.objects.filter(kind="reserve").count() == 2  # the first video's and the retry's
    assert sum("This video is already being made again." in page for page in pages) == 1


@pytest.mark.django_db
def test_a_failed_video_is_made_again_once_and_a_failed_retry_can_be_retried(make_creation, user):
    creation = make_creation(user)
    first = job_fail(job_id=creation.job_id, reason="Out of memory.")
    creation.refresh_from_db()
    second = creation_retry(creation=creation).job
    creation.job = first  # a page still showing the first failure, sent again
    with pytest.raises(ValueError, match="already being made again"):
        creation_retry(creation=creation)
    job_fail(job_id=second.pk, reason="Out of memory.")
    creation.refresh_from_db()
    third = creation_retry(creation=creation).job
    assert [Job.objects.get(pk=job.pk).retry_of for job in (second, third)] == [first, second]
    assert CreditReservation.objects.filter(state="reserved").count() == 1
