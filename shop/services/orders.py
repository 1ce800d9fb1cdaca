"""Orders: checkout through Stripe, payment from webhooks only, fulfilment and refunds by staff."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from core.mail import mail_send

from .. import payments
from ..models import Cart, FrameVariant, Order, OrderItem, Payment
from ..money import from_minor_units, to_minor_units
from .cart import cart_remove_bought, cart_review

logger = logging.getLogger(__name__)
Status = Order.Status

# Staff move an order along this path; canceling is its own service.
NEXT_STATUS = {Status.PAID: Status.IN_PRODUCTION, Status.IN_PRODUCTION: Status.SHIPPED, Status.SHIPPED: Status.DELIVERED}


class CheckoutProblem(Exception):
    """The cart cannot be bought as it is; ``str()`` says why. Nothing was ordered."""


class OrderError(Exception):
    """A staff action that does not fit the order's state; ``str()`` says why."""


@dataclass(frozen=True)
class Gift:
    recipient_name: str
    recipient_email: str = ""
    message: str = ""


def order_checkout_start(*, user, cart: Cart, success_url: str, cancel_url: str, gift: Gift | None = None, preload=()) -> tuple[Order, str]:
    """Re-check the cart, write a pending order and open a Stripe Checkout page for it.
    Returns the order and the page's URL. Raises CheckoutProblem or payments' errors."""
    payments.client()  # no order is written while payments are not set up
    # A changed price is taken into the cart (and kept), but the customer sees it before paying.
    review = cart_review(cart=cart, accept_prices=True)
    if review.problems or review.notices:
        raise CheckoutProblem(" ".join(review.problems + review.notices))
    with transaction.atomic():
        review = cart_review(cart=cart)
        if not review.items:
            raise CheckoutProblem(gettext("Your cart is empty."))
        if review.problems or review.notices:
            raise CheckoutProblem(" ".join(review.problems + review.notices))
        currency = cart.currency
        order = Order.objects.create(
            customer=user, email=user.email, currency=currency, subtotal=review.subtotal, total=review.subtotal,
            is_gift=gift is not None, gift_recipient_name=gift.recipient_name if gift else "",
            gift_recipient_email=gift.recipient_email if gift else "", gift_message=gift.message if gift else "",
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order, variant=item.variant, description=str(item.variant), sku=item.variant.sku,
                unit_price=item.variant.price(currency), quantity=item.quantity,
            )
            for item in review.items
        )
        order.preload.set(preload)
    line_items = [
        {
            "quantity": item.quantity,
            "price_data": {"currency": currency.lower(), "unit_amount": to_minor_units(item.unit_price, currency), "product_data": {"name": item.description}},
        }
        for item in order.items.all()
    ]
    session = payments.checkout_session_create(
        {
            "mode": "payment",
            "line_items": line_items,
            "customer_email": user.email,
            "client_reference_id": order.number,
            "metadata": {"order": order.number},
            "payment_intent_data": {"metadata": {"order": order.number}},
            "shipping_address_collection": {"allowed_countries": list(settings.SHOP_SHIPPING_COUNTRIES)},
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        idempotency_key=f"order-checkout-{order.number}",
    )
    Order.objects.filter(pk=order.pk).update(checkout_session_id=session["id"])
    order.checkout_session_id = session["id"]
    return order, session["url"]


def _shipping_details(session: dict) -> dict:
    collected = session.get("collected_information") or {}
    details = collected.get("shipping_details") or session.get("shipping_details") or {}
    address = details.get("address") or {}
    return {
        "ship_name": details.get("name") or "", "ship_line1": address.get("line1") or "", "ship_line2": address.get("line2") or "",
        "ship_city": address.get("city") or "", "ship_state": address.get("state") or "",
        "ship_postal_code": address.get("postal_code") or "", "ship_country": address.get("country") or "",
    }


def order_payment_sync(*, checkout_session_id: str) -> Order | None:
    """Mark the order paid if Stripe says its Checkout Session is paid, in full and in the
    order's currency; otherwise flag it for staff. A payment for a canceled order is refunded
    instead. Re-reads the session from Stripe; safe to run any number of times."""
    session = payments.checkout_session_retrieve(checkout_session_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(checkout_session_id=checkout_session_id).first()
        if order is None:
            logger.warning("Checkout Session %s matches no order", checkout_session_id)
            return None
        if order.status == Status.CANCELED:
            if session.get("payment_status") == "paid":
                _late_payment_refund(order, session)
            return order
        if order.is_paid or session.get("payment_status") != "paid":
            return order  # already done, or an asynchronous payment that has not cleared yet
        expected = to_minor_units(order.total, order.currency)
        currency = (session.get("currency") or "").upper()
        if session.get("amount_total") != expected or currency != order.currency:
            order.needs_attention = True
            order.attention_note = (
                f"Stripe reported {session.get('amount_total')} {currency} paid for an order of {expected} {order.currency} "
                f"(minor units); not marked paid. Session {checkout_session_id}."
            )
            order.save(update_fields=["needs_attention", "attention_note", "updated_at"])
            return order
        for name, value in _shipping_details(session).items():
            setattr(order, name, value)
        order.payment_intent_id = session.get("payment_intent") or ""
        order.status, order.paid_at = Status.PAID, timezone.now()
        order.amount_paid = from_minor_units(session["amount_total"], order.currency)
        Payment.objects.get_or_create(
            stripe_id=order.payment_intent_id or checkout_session_id,
            defaults={"order": order, "kind": Payment.Kind.CHARGE, "amount": order.amount_paid, "currency": order.currency},
        )
        oversold = _take_stock(order)
        if oversold:
            order.needs_attention = True
            order.attention_note = "Paid while out of stock: " + ", ".join(oversold)
        order.save()
        cart_remove_bought(user=order.customer, variant_ids=[item.variant_id for item in order.items.all() if item.variant_id])
        transaction.on_commit(lambda: _email(order, "paid"))
    return order


def _late_payment_refund(order: Order, session: dict) -> None:
    """Give back, in full, a payment that reached a canceled order (paid on a page opened before
    the cancel), and flag the order for staff to tell the customer. No stock is taken and no
    "paid" email goes out. Once per payment: its id is recorded on the order."""
    payment_intent = session.get("payment_intent") or ""
    if not payment_intent or order.payment_intent_id == payment_intent:
        return  # refunded already, or a payment staff refunded before canceling
    currency = (session.get("currency") or "").upper()
    amount = from_minor_units(session["amount_total"], currency)
    # The key makes a retry after a crash (or a concurrent delivery) get the same refund back.
    payments.refund_create(
        payment_intent=payment_intent, amount=session["amount_total"], idempotency_key=f"refund-canceled-{order.number}-{payment_intent}",
        metadata={"order": order.number, "reason": "order canceled"},
    )
    # Not paid_at: the order never stood paid (nothing may be made or shipped for it).
    order.payment_intent_id, order.amount_paid = payment_intent, amount
    order.needs_attention = True
    order.attention_note = (
        f"Stripe took {amount} {currency} for this order after it was canceled (Checkout Session {session['id']}); "
        f"the payment was refunded in full automatically. Tell the customer."
    )
    order.save()
    Payment.objects.get_or_create(
        stripe_id=payment_intent, defaults={"order": order, "kind": Payment.Kind.CHARGE, "amount": amount, "currency": currency},
    )
    order_refunds_sync(payment_intent_id=payment_intent)


def _take_stock(order: Order) -> list[str]:
    oversold = []
    for item in order.items.all():
        variant = FrameVariant.objects.select_for_update().filter(pk=item.variant_id).first()
        if variant is None:
            continue
        if variant.stock < item.quantity:
            oversold.append(f"{item.description} ({variant.stock} left, {item.quantity} ordered)")
        variant.stock = max(0, variant.stock - item.quantity)
        variant.save(update_fields=["stock"])
    return oversold


def order_refunds_sync(*, payment_intent_id: str) -> Order | None:
    """Record every refund Stripe has on the payment, once each, and the refunded total."""
    refunds = payments.refunds_list(payment_intent=payment_intent_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first()
        if order is None:
            logger.warning("Payment %s matches no order", payment_intent_id)
            return None
        for refund in refunds:
            if refund.get("status") in ("succeeded", "pending"):
                Payment.objects.get_or_create(
                    stripe_id=refund["id"],
                    defaults={
                        "order": order, "kind": Payment.Kind.REFUND, "currency": refund["currency"].upper(),
                        "amount": from_minor_units(refund["amount"], refund["currency"].upper()),
                    },
                )
        order.amount_refunded = order.payments.filter(kind=Payment.Kind.REFUND).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        order.save(update_fields=["amount_refunded", "updated_at"])
    return order


def order_refund(*, order: Order, amount: Decimal | None = None) -> Order:
    """Refund ``amount`` (all that is left when None) through Stripe, then record it."""
    if not order.is_paid or not order.payment_intent_id:
        raise OrderError(f"{order} has not been paid; there is nothing to refund.")
    amount = order.refundable if amount is None else Decimal(amount)
    if not Decimal(0) < amount <= order.refundable:
        raise OrderError(f"{order} can be refunded between 0 and {order.refundable} {order.currency}, not {amount}.")
    payments.refund_create(
        payment_intent=order.payment_intent_id, amount=to_minor_units(amount, order.currency),
        idempotency_key=f"refund-{order.number}-{uuid.uuid4()}", metadata={"order": order.number},
    )
    return order_refunds_sync(payment_intent_id=order.payment_intent_id)


@transaction.atomic
def order_advance(*, order: Order, carrier: str = "", tracking_number: str = "") -> Order:
    """Move a paid order one step on: in production, shipped (with carrier and tracking), delivered."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    to = NEXT_STATUS.get(order.status)
    if to is None:
        raise OrderError(f"{order} is {order.get_status_display().lower()}; it cannot move on from there.")
    now = timezone.now()
    if to == Status.SHIPPED:
        carrier, tracking_number = carrier or order.carrier, tracking_number or order.tracking_number
        if not (carrier and tracking_number):
            raise OrderError(f"{order} needs a carrier and a tracking number to be marked shipped.")
        order.carrier, order.tracking_number, order.shipped_at = carrier, tracking_number, now
        transaction.on_commit(lambda: _email(order, "shipped"))
    elif to == Status.IN_PRODUCTION:
        order.in_production_at = now
    else:
        order.delivered_at = now
    order.status = to
    order.save()
    return order


def order_cancel(*, order: Order) -> Order:
    """Cancel an order that has not shipped. A paid one must be refunded in full first. A
    pending one's Checkout page is closed at Stripe first, so it can no longer be paid; when
    Stripe says it was paid a moment ago, the payment is taken in and the order is not canceled."""
    order = Order.objects.get(pk=order.pk)
    if order.status == Status.PENDING and order.checkout_session_id:
        _checkout_close(order)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (Status.PENDING, Status.PAID, Status.IN_PRODUCTION):
            raise OrderError(f"{order} is {order.get_status_display().lower()}; it can no longer be canceled.")
        if order.is_paid and order.refundable > 0:
            raise OrderError(f"{order} has {order.refundable} {order.currency} paid and not refunded; refund it first.")
        order.status, order.canceled_at = Status.CANCELED, timezone.now()
        order.save(update_fields=["status", "canceled_at", "updated_at"])
    return order


def _checkout_close(order: Order) -> None:
    """Expire the order's Checkout Session, or raise OrderError when it cannot be: Stripe took
    the payment a moment ago (then it is recorded here at once), or Stripe could not be reached."""
    try:
        payments.checkout_session_expire(order.checkout_session_id)
        return
    except payments.NotFound:
        return  # Stripe has no such session under these keys: nobody can pay it
    except payments.PaymentError:
        pass  # not open any more, or Stripe did not answer: ask it which
    try:
        session = payments.checkout_session_retrieve(order.checkout_session_id)
    except payments.PaymentError as error:
        raise OrderError(f"Stripe could not close the payment page of {order}, so it was not canceled; try again. ({error})") from error
    if session.get("status") == "expired":
        return
    if session.get("status") == "complete":
        order = order_payment_sync(checkout_session_id=order.checkout_session_id)
        if order.is_paid:
            raise OrderError(
                f"{order} was paid a moment ago, so it was not canceled. It is now marked paid; "
                f"refund it first if it must still be canceled."
            )
        if order.needs_attention:
            raise OrderError(f"{order} was paid at Stripe but needs attention, so it was not canceled: {order.attention_note}")
        raise OrderError(f"{order} has a payment under way at Stripe, so it was not canceled; look at it again once the payment settles.")
    raise OrderError(f"Stripe did not close the payment page of {order}, so it was not canceled; try again.")


def _email(order: Order, what: str) -> None:
    mail_send(
        template=f"shop/email/order_{what}", context={"order": order, "site_url": settings.SITE_URL},
        to=order.email, language=order.customer.language,
    )
